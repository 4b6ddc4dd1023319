// Stopgap for the plan/ type-check only (src/plan/tsconfig.json lists this file; the root
// tsconfig's "src/**/*.ts" does not match ".d.mts", so the real build never sees it).
// src/lib/errors.ts names the type `NodeJS.ErrnoException` in fromNodeError(); plan/ reaches
// that file through spec/model.ts → canonical/* → spec/errors.ts and has "types": [], so the
// namespace would be missing. This declares that one type and no value: nothing here lets
// plan/ call Node. Delete this file once lib/errors.ts uses its own structural type.
export {};
declare global {
  namespace NodeJS {
    interface ErrnoException extends Error {
      code?: string;
      errno?: number;
      syscall?: string;
      path?: string;
    }
  }
}
