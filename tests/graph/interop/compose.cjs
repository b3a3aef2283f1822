// Compose subgraphs with @theguild/federation-composition.
// stdin: [{"name", "url", "sdl"}]; stdout: {"supergraphSdl": string|null, "errors": [string]}
const { composeServices } = require("@theguild/federation-composition");
const { parse } = require("graphql");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const services = JSON.parse(input).map((s) => ({
    name: s.name,
    url: s.url,
    typeDefs: parse(s.sdl),
  }));
  const result = composeServices(services);
  const errors = (result.errors || []).map((e) => e.message);
  process.stdout.write(JSON.stringify({ supergraphSdl: result.supergraphSdl || null, errors }));
});
