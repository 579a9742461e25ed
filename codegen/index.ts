/**
 * Public entry point of the code generator: model (idl/) -> TypeScript
 * modules. `ringrpc gen` (src/cli/gen.ts) is the command-line front end.
 */
export { commonDir, generate } from "./generate.ts";
export type { GeneratedFile, GenerateOptions } from "./generate.ts";
export { CodegenError } from "./codegen-error.ts";
export { unifiedDiff } from "./text-diff.ts";
