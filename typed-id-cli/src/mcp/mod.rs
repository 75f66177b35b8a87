//! `typed-id mcp`: an MCP server over stdio (the official Rust SDK, `rmcp`) with
//! seven tools: the registry's `register_instance`, `heartbeat`, `list_instances`,
//! `get_instance_details` and `close_instance`, and `decode_snowflake` and
//! `validate_id`.
//!
//! Bad arguments are tool errors (`isError: true`) whose text says what to fix; an
//! unknown tool is a JSON-RPC error; a line that is not JSON gets a parse error
//! (`stdio.rs`). None of them ends the session.

mod args;
mod registry_tools;
mod stdio;
mod tools;

use std::process::ExitCode;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler, ServiceExt};
use serde_json::Value;

use crate::cli::McpArgs;
use crate::error::{CliError, Outcome};
use registry_tools::RegistrySlot;

/// The server: the registry (opened on first use) and the tool list.
struct IdServer {
    registry: RegistrySlot,
    tools: Arc<Vec<Tool>>,
}

fn object(schema: Value) -> serde_json::Map<String, Value> {
    match schema {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

fn tool_list() -> Vec<Tool> {
    let mut tools = vec![
        Tool::new(
            "decode_snowflake",
            "Decode a snowflake ID (decimal, base62 or prefixed) into its UTC time, worker, \
             process, sequence, hex and base62, under a preset or custom layout.",
            object(tools::decode_schema()),
        ),
        Tool::new(
            "validate_id",
            "Check an ID against a format (kind, prefix and options, as in \
             #[derive(TypedId)]); returns valid, or the error with its byte and kind.",
            object(tools::validate_schema()),
        ),
    ];
    for name in registry_tools::NAMES {
        tools.push(Tool::new(
            name,
            registry_tools::description(name),
            object(registry_tools::schema(name)),
        ));
    }
    tools
}

impl ServerHandler for IdServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("typed-id", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Instance registry and ID tools: register_instance at start, heartbeat \
                 regularly with context_percent, close_instance when done; decode_snowflake \
                 and validate_id for IDs.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let empty = serde_json::Map::new();
        let arguments = request.arguments.as_ref().unwrap_or(&empty);
        let name = request.name.as_ref();
        let result = match name {
            "decode_snowflake" => tools::decode(arguments),
            "validate_id" => tools::validate(arguments),
            _ if registry_tools::NAMES.contains(&name) => {
                registry_tools::call(&self.registry, name, arguments)
            }
            _ => {
                return Err(ErrorData::invalid_params(
                    format!(
                        "unknown tool `{name}`; the tools are decode_snowflake, validate_id, {}",
                        registry_tools::NAMES.join(", ")
                    ),
                    None,
                ));
            }
        };
        Ok(match result {
            Ok(value) => CallToolResult::structured(value),
            Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
        }
        .into())
    }
}

/// `typed-id mcp`: serves until the client closes standard input.
pub fn run(args: &McpArgs) -> Outcome {
    let server = IdServer {
        registry: RegistrySlot::new(args.database_url.clone(), args.stale_after),
        tools: Arc::new(tool_list()),
    };
    // rmcp times its handshake and requests: the runtime needs its timer.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let (client_side, server_side) = tokio::io::duplex(64 * 1024);
        let pump = tokio::spawn(stdio::pump(client_side));
        let served = match server.serve(server_side).await {
            Ok(running) => running.waiting().await.map(drop).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let pumped = pump.await;
        match (served, pumped) {
            (Ok(()), Ok(Ok(()))) => Ok(ExitCode::SUCCESS),
            (Err(e), _) => Err(CliError::usage(format!("MCP session ended: {e}"))),
            (_, Ok(Err(e))) => Err(CliError::from(e)),
            (_, Err(e)) => Err(CliError::usage(format!("MCP transport failed: {e}"))),
        }
    })
}
