//! `wasmcron token list|create|revoke|whoami`: the cluster's named API tokens.

use serde_json::json;

use super::ClientArgs;
use super::error::ClientError;
use super::http::Client;
use super::output::{opt, print_json, text};
use super::table::Table;
use crate::api::{CreatedToken, NewToken, TokenList, WhoAmI};

/// `wasmcron token <command>`.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// List the named tokens (admins only; secrets are never shown again).
    List,
    /// Create a token and print its secret (shown this once).
    Create {
        /// 1-64 letters, digits, '.', '_' or '-'.
        name: String,
        /// `admin` (everything) or `read` (reads only).
        #[arg(long, default_value = "read", value_parser = ["admin", "read"])]
        role: String,
    },
    /// Revoke a token: every replica refuses it within a second.
    Revoke { name: String },
    /// Show the name and role of the token in use.
    Whoami,
}

/// Run a `token` subcommand.
pub async fn run_token(args: &ClientArgs, command: TokenCommand) -> Result<(), ClientError> {
    let client = Client::new(args);
    match command {
        TokenCommand::List => list(&client, args).await,
        TokenCommand::Create { name, role } => create(&client, args, &name, &role).await,
        TokenCommand::Revoke { name } => revoke(&client, args, &name).await,
        TokenCommand::Whoami => whoami(&client, args).await,
    }
}

async fn list(client: &Client, args: &ClientArgs) -> Result<(), ClientError> {
    let list: TokenList = client.get(&["tokens"]).await?;
    if args.json() {
        print_json(&list);
        return Ok(());
    }
    let mut t = Table::new(&["NAME", "ROLE", "CREATED", "BY", "LAST USED"]);
    for token in &list.tokens {
        t.row(vec![
            text(&token.name),
            token.role.as_str().into(),
            text(&token.created_at),
            opt(token.created_by.as_deref()),
            opt(token.last_used_at.as_deref()),
        ]);
    }
    t.print();
    Ok(())
}

async fn create(
    client: &Client,
    args: &ClientArgs,
    name: &str,
    role: &str,
) -> Result<(), ClientError> {
    let made: CreatedToken = client
        .post_json(
            &["tokens"],
            &NewToken {
                name: name.into(),
                role: role.into(),
            },
        )
        .await?;
    if args.json() {
        print_json(&made);
    } else {
        println!(
            "token {} ({}) created; its secret is shown only now:",
            text(&made.view.name),
            made.view.role.as_str()
        );
        println!("{}", text(&made.token));
    }
    Ok(())
}

async fn revoke(client: &Client, args: &ClientArgs, name: &str) -> Result<(), ClientError> {
    client.delete(&["tokens", name]).await?;
    if args.json() {
        print_json(&json!({"revoked": name}));
    } else {
        println!("token {name} revoked");
    }
    Ok(())
}

async fn whoami(client: &Client, args: &ClientArgs) -> Result<(), ClientError> {
    let me: WhoAmI = client.get(&["whoami"]).await?;
    if args.json() {
        print_json(&me);
    } else if me.auth_required {
        println!("{} ({})", opt(me.name.as_deref()), me.role.as_str());
    } else {
        println!("the API requires no token (everyone is admin)");
    }
    Ok(())
}
