// The input of a service's config hash: the canonical text of everything in its effective config
// whose change must recreate its containers. The engine takes sha256 of this string (plan/ cannot
// hash) and stores it in the com.docker.compose.config-hash label; `up` recreates a container
// whose label differs from the service's current hash.
//
// What is left out, and why (docker/compose pkg/compose/hash.go ServiceHash() clears build,
// pull_policy, scale, deploy.replicas, depends_on and profiles before marshalling; compose-go
// tags the x-* extensions `json:"-"`, so they never reach the hash either):
// - scale and deploy.replicas: changing the number of replicas adds or removes containers, it
//   does not replace the ones that stay (compose);
// - depends_on: ordering between services, not a property of the container (compose);
// - profiles: which services are enabled, not how (compose);
// - build and pull_policy: how the image is obtained; what was built is seen through `image`
//   (compose). The engine may append the resolved image id to this text to recreate when the
//   image behind an unchanged tag changed (compose keeps that in a separate image-digest label);
// - extensions (x-*): compose drops them too;
// - berth only: develop (watch rules change nothing in the container; compose does hash them
//   and so recreates on a watch-rule edit), env_file (its contents are already merged into
//   `environment`, which is hashed; the paths alone change nothing) and unsupported (keys berth
//   does not apply cannot change the container).
// Kept, as in compose: restart (compose recreates on a restart-policy change, it does not update
// the policy in place), container_name, labels, annotations, deploy (minus replicas), logging,
// stop_signal, stop_grace_period, healthcheck, and every runtime key.
import type { Service } from '../spec/model.js';

/** Keys of Service that never enter the hash (see the header). */
export const HASH_EXCLUDED_KEYS: readonly (keyof Service)[] = [
  'scale', 'depends_on', 'profiles', 'build', 'pull_policy', 'extensions', 'develop', 'env_file', 'unsupported',
];

/** Stable, canonical JSON (object keys sorted at every depth; arrays keep their order). */
export function serviceConfigForHash(service: Service): string {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(service)) {
    if ((HASH_EXCLUDED_KEYS as readonly string[]).includes(key)) continue;
    input[key] = value;
  }
  if (service.deploy) {
    const { replicas: _replicas, ...deploy } = service.deploy;
    input['deploy'] = deploy;
  }
  return canonicalJson(input);
}

/**
 * JSON with object keys sorted, so equal values give equal text whatever order their keys were
 * written or merged in. `undefined` members are dropped (as JSON.stringify does), so an absent
 * optional key and one set to undefined hash the same.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
