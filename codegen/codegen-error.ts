/**
 * CodegenError: an error in the model that makes generation impossible (a
 * name clash, say), with the code CODEGEN_ERROR. Owns only the type.
 */
export class CodegenError extends Error {
  override name = "CodegenError";
  readonly code = "CODEGEN_ERROR";
}
