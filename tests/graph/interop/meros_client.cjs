// A GraphQL client reading an incremental (`@defer`) response with meros, the multipart parser
// Apollo Client, GraphiQL and urql use. Prints one JSON line per part.
// usage: node meros_client.cjs URL BODY_JSON ACCEPT
const { meros } = require("meros/browser");

async function main() {
  const [url, body, accept] = process.argv.slice(2);
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept },
    body,
  });
  const parts = await meros(response);
  if (!parts[Symbol.asyncIterator]) {
    // Not multipart: meros hands the response back untouched.
    console.log(JSON.stringify({ single: await response.json() }));
    return;
  }
  for await (const part of parts) {
    console.log(JSON.stringify({ contentType: part.headers["content-type"], json: part.json, body: part.body }));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
