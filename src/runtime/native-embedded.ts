/// <reference path="./shared-library.d.ts" />
/**
 * The linux-x64 native shim as a file of the program, for binaries built with
 * `bun build --compile`: Bun's file loader embeds the library in the binary
 * and gives a `/$bunfs/` path that bun:ffi's dlopen opens. native.ts imports
 * this module only inside such a binary on linux-x64; elsewhere it is never
 * evaluated, so a checkout without the prebuilt library still runs. Building
 * a binary needs native/prebuilt/linux-x64/libringrpc.so on disk (the package
 * ships it; in a checkout `make -C native` builds it).
 */
import path from "../../native/prebuilt/linux-x64/libringrpc.so" with { type: "file" };

export const embeddedLibraryPath: string = path;
