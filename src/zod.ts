/**
 * `ringrpc/zod`: the zod that generated code validates with, re-exported.
 * Generated files import `z` from here rather than from "zod", so their one
 * dependency is the package that generated them: they resolve in every
 * install layout (hoisted, isolated, a symlinked checkout) and run against
 * the zod version this package pins and tests. A project that writes its own
 * schemas next to generated ones imports `z` from here too, to share the
 * same instance. Nothing else lives here.
 */
export { z } from "zod";
