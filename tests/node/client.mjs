// Drives komodo-mcp with an official TypeScript client and prints what it saw, as one JSON line.
// usage: node client.mjs <v1|v2> <stdio|http> <command...|url>
const [sdk, transportKind, ...target] = process.argv.slice(2);

const v1 = sdk === "v1";
const { Client } = await import(v1 ? "@modelcontextprotocol/sdk/client/index.js" : "@modelcontextprotocol/client");
const { StdioClientTransport } = await import(v1 ? "@modelcontextprotocol/sdk/client/stdio.js"
                                                 : "@modelcontextprotocol/client/stdio");
const { StreamableHTTPClientTransport } = await import(v1 ? "@modelcontextprotocol/sdk/client/streamableHttp.js"
                                                          : "@modelcontextprotocol/client");

const transport = transportKind === "stdio"
  ? new StdioClientTransport({ command: target[0], args: target.slice(1), stderr: "ignore" })
  : new StreamableHTTPClientTransport(new URL(target[0]));
const client = new Client({ name: `komodo-mcp-test-${sdk}`, version: "1.0.0" });
await client.connect(transport);

const tools = (await client.listTools()).tools;
const read = await client.callTool({ name: "komodo_read_GetServer", arguments: { id: "staging-web" } });
const execute = await client.callTool({ name: "komodo_execute_RestartDeployment", arguments: { id: "web-frontend" } });
const error = await client.callTool({ name: "komodo_read_GetDeployment", arguments: { id: "no-such-deployment" } });
console.log(JSON.stringify({
  tools: tools.length,
  read: read.structuredContent.data.name,
  execute: execute.structuredContent.data.job_id,
  error: [error.isError, JSON.parse(error.content[0].text).code],
}));
await client.close();
