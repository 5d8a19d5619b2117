export { type Boundary, BoundaryStrength, findBoundaries } from "./boundaries.ts";
export { type DecomposeOptions, decompose, type Segment } from "./decompose.ts";
export { type LocalRoute, type RouteMessageOptions, type RouteTier, routeMessage } from "./route-message.ts";
