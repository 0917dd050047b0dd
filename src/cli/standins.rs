//! `simulator` and `opencti-standin`: the two stand-ins, run on their own so that a user
//! can try the connector end to end without a TIP licence or an OpenCTI platform.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::simulator::opencti::{StandInConfig, run_standalone};
use crate::simulator::tip::{FaultSpec, GenerateParams, SimulatorOptions, World, generate, serve};

/// `simulator [--world DIR] [--seed N] [--port N] [--out-dir DIR] [--fault SPEC]...`.
#[derive(Clone, Debug, clap::Args)]
pub struct SimulatorArgs {
    /// Serve this world directory (the layout of samples/decoded); default: a generated one.
    #[arg(long, value_name = "DIR")]
    pub world: Option<PathBuf>,
    /// Seed of the generated world.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Where ca.pem, client.pem and simulator.env are written.
    #[arg(long, value_name = "DIR", default_value = "simulator")]
    pub out_dir: PathBuf,
    /// Also write the generated world there (under world/), to look at it.
    #[arg(long)]
    pub write_world: bool,
    /// Faults to inject, such as `get_one:503*2` or `any:429;retry-after=5`.
    #[arg(long, value_name = "SPEC")]
    pub fault: Vec<String>,
}

/// Serves the TIP simulator until Ctrl-C.
pub async fn simulator(args: SimulatorArgs) -> anyhow::Result<ExitCode> {
    let world = match &args.world {
        Some(dir) => World::load(dir).with_context(|| format!("cannot load {}", dir.display()))?,
        None => generate(&GenerateParams {
            seed: args.seed,
            ..GenerateParams::default()
        }),
    };
    if args.write_world {
        world.write(&args.out_dir.join("world"))?;
    }
    let faults = args
        .fault
        .iter()
        .map(|f| {
            f.parse::<FaultSpec>()
                .map_err(|e| anyhow::anyhow!("--fault {f:?}: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let options = SimulatorOptions {
        port: args.port,
        faults,
        ..SimulatorOptions::default()
    };
    let simulator = serve(world, options).await?;
    let files = simulator.write_credentials(&args.out_dir)?;
    println!(
        "TIP simulator listening on {}; use (also in {}):",
        simulator.base_url(),
        files.env_path.display()
    );
    for (key, value) in simulator.env_vars(&files) {
        println!("export {key}='{value}'");
    }
    tokio::signal::ctrl_c().await?;
    simulator.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// `opencti-standin [--port N] [--token T]`.
#[derive(Clone, Debug, clap::Args)]
pub struct StandInArgs {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The token the connector must send.
    #[arg(long, default_value = "standin-token")]
    pub token: String,
    /// Report workflow statuses to offer (comma separated); none: reports have no workflow.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "New,In progress,Analyzed,Closed"
    )]
    pub statuses: Vec<String>,
}

/// Serves the OpenCTI stand-in until Ctrl-C. It hands out, and declares the connector's
/// queue on, the local RabbitMQ (127.0.0.1:5672, guest/guest).
pub async fn opencti_standin(args: StandInArgs) -> anyhow::Result<ExitCode> {
    let config = StandInConfig {
        token: args.token,
        report_statuses: (!args.statuses.is_empty()).then_some(args.statuses),
        ..StandInConfig::default()
    };
    let cancel = CancellationToken::new();
    super::run::spawn_signal_handler(cancel.clone());
    run_standalone(config, args.port, cancel).await?;
    Ok(ExitCode::SUCCESS)
}
