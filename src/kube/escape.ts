// Kubernetes expands `$(VAR)` in a container's command, args and env values (a reference to an
// earlier variable of the container), and turns `$$` into `$`. A compose value is the literal
// string the process must see, so every `$` that Kubernetes would read as the start of `$$` or
// `$(` is doubled. A `$` before any other character, or at the end, is left alone: Kubernetes
// keeps it. (Semantics: kubernetes third_party/forked/golang/expansion, its tests' cases.)

export function escapeExpansion(s: string): string {
  return s.includes('$') ? s.replace(/\$(?=[$(])/g, () => '$$') : s;
}
