#!/usr/bin/env node
// Entry point of the `arbiter` command. The sources are TypeScript run by Node's type stripping (Node >= 24).
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `arbiter: Node ${process.versions.node} is too old; Arbiter needs Node 24 or newer (see .nvmrc).\n`,
  );
  process.exit(2);
}
// A closed pipe (`arbiter … | head`) ends the command quietly.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
