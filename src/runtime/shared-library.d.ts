/**
 * The type of a shared library imported with `with { type: "file" }`
 * (src/runtime/native-embedded.ts): Bun's file loader gives its path.
 */
declare module "*/libringrpc.so" {
  const path: string;
  export default path;
}
