//! Command-line interface: `strata [FILE]` opens the editor; subcommands work headless.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use strata::io::{self, ExportFormat};
use strata::model::Document;

/// Strata: decompose flat pictures into editable layers; layered PSD and OpenRaster export.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about)]
pub struct Cli {
    /// Picture to open in the editor (PNG, JPEG, WebP, TIFF, BMP, GIF, PSD, ORA).
    pub file: Option<PathBuf>,
    /// Refuse input files whose layers would need more than this many MiB of memory (the
    /// default allows 4 GiB of layers, 1 GiB per image).
    #[arg(long, global = true, value_name = "MIB")]
    pub max_memory: Option<u64>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the canvas size and every layer (top first, as a layer panel shows them).
    Info { file: PathBuf },
    /// Composite all visible layers and write one PNG.
    Flatten {
        input: PathBuf,
        /// Output PNG path.
        #[arg(short, long)]
        output: PathBuf,
        /// Composite on the GPU (wgpu) instead of the CPU reference compositor.
        #[arg(long)]
        gpu: bool,
    },
    /// Convert between formats, keeping layers: the output's extension picks
    /// .psd, .ora or .png (flattened).
    Convert {
        input: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write each layer as its own PNG into a folder (bottom layer first: 01-name.png, …).
    ExportLayers {
        input: PathBuf,
        /// Output folder (created if missing).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Split a picture into layers and save them (.psd, .ora, .png or a folder of PNGs).
    Decompose {
        input: PathBuf,
        /// elements (text, shapes and objects each on a layer; the default), objects
        /// (salient objects, inpainted background), palette (soft colour layers), regions
        /// (colour regions, no model) or qwen-layered (Qwen-Image-Layered; needs --weights
        /// and, in practice, a large GPU).
        #[arg(long, default_value = "elements")]
        method: strata::decompose::Method,
        /// Layers, background included: `auto` (as many as the picture holds) or an upper
        /// bound (the least significant layers are merged into their neighbours).
        #[arg(long, default_value = "auto")]
        layers: strata::decompose::LayerCount,
        /// Seed for the random choices, so runs are reproducible.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output: .psd, .ora, .png (the layers' composite), or a folder for one PNG per layer.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        qwen: QwenArgs,
    },
    /// Fill the part of a picture a mask marks with content continued from the rest (to
    /// remove an object, a blemish, a watermark) and write a PNG.
    Inpaint {
        input: PathBuf,
        /// Mask of the picture's size. Opaque masks: white (luminance ≥ 50%) marks the hole,
        /// as painted in any editor. Masks with transparency: opaque (alpha ≥ 50%) marks it,
        /// so a cut-out object is its own mask.
        #[arg(long)]
        mask: PathBuf,
        /// Optional mask, read the same way, of pixels never to copy from (other objects).
        #[arg(long)]
        exclude: Option<PathBuf>,
        /// Output PNG path.
        #[arg(short, long)]
        output: PathBuf,
        /// Seed of the randomised patch search, so runs are reproducible.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Measure performance against peers in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// Settings of the qwen-layered method (ignored by the others).
#[derive(Debug, clap::Args)]
pub struct QwenArgs {
    /// qwen-layered: local copy of the Hugging Face repository Qwen/Qwen-Image-Layered
    /// (default: $STRATA_QWEN_WEIGHTS).
    #[arg(long, value_name = "DIR")]
    weights: Option<PathBuf>,
    /// qwen-layered: a caption of the whole picture (improves the layers).
    #[arg(long, default_value = "")]
    prompt: String,
    /// qwen-layered: denoising steps.
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// qwen-layered: working resolution, 640 or 1024.
    #[arg(long, default_value_t = 640)]
    resolution: u32,
    /// qwen-layered: classifier-free guidance scale (1 turns guidance off).
    #[arg(long, default_value_t = 4.0)]
    cfg_scale: f32,
    /// qwen-layered: decode with the VAE in tiles, to save memory.
    #[arg(long)]
    vae_tiling: bool,
}

impl QwenArgs {
    fn settings(self) -> strata::decompose::methods::qwen::QwenSettings {
        strata::decompose::methods::qwen::QwenSettings {
            weights: self.weights,
            prompt: self.prompt,
            steps: self.steps,
            resolution: self.resolution,
            true_cfg_scale: self.cfg_scale,
            vae_tiling: self.vae_tiling,
            ..Default::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// GPU compositing (full and live-drag paths) vs the CPU reference and ImageMagick.
    Composite {
        /// Canvas sides to measure.
        #[arg(long, value_delimiter = ',', default_value = "2048,4096")]
        sizes: Vec<u32>,
        /// Layer counts to measure.
        #[arg(long, value_delimiter = ',', default_value = "4,16,64")]
        layers: Vec<usize>,
        /// Frames timed per measurement (the median is reported).
        #[arg(long, default_value_t = 5)]
        frames: u32,
        /// Skip the ImageMagick comparison.
        #[arg(long)]
        no_imagemagick: bool,
    },
    /// Decomposition quality (LayerD / Qwen-Image-Layered protocol: RGB L1 and alpha soft
    /// IoU for 0..5 merges, reconstruction error) and speed, per method and scene kind, with
    /// a one-layer baseline.
    Decompose {
        /// Methods to measure (default: all; one that cannot run here is reported so).
        #[arg(long, value_delimiter = ',')]
        methods: Vec<strata::decompose::Method>,
        /// Scene set: designs (real clip art, fonts and photos), held-out (thirty more designs
        /// from seeds no tuning has seen), layouts (app screens, card grids and slides),
        /// synthetic, or psd-corpus.
        #[arg(long, value_enum, default_value = "designs")]
        set: crate::bench::SceneSet,
        /// Number of scenes (synthetic; default 8), or at most this many (designs, PSDs).
        #[arg(long)]
        scenes: Option<usize>,
        /// Canvas size, a side (square) or WIDTHxHEIGHT (default: designs 768x512,
        /// synthetic 512).
        #[arg(long, value_parser = crate::bench::parse_size)]
        size: Option<(u32, u32)>,
        /// Seed of the first synthetic scene and of the methods.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Do not group non-overlapping top layers before alignment (LayerD does).
        #[arg(long)]
        no_grouping: bool,
        /// Ask each method for the scene's true layer count (as the field's tables do)
        /// instead of letting it choose (`--layers auto`, what a person gets).
        #[arg(long)]
        true_count: bool,
        /// Folder of the designs assets (default: assets/bench/designs of the source tree).
        #[arg(long)]
        assets: Option<PathBuf>,
        /// Folder of PSDs for `--set psd-corpus`.
        #[arg(long, default_value = "../shared/fixtures/psd-corpus")]
        psd_dir: PathBuf,
    },
    /// Open every PSD and PSB of a folder: opened, refused or crashed, and our flatten against
    /// the composite each file stores, beside psd-tools' compositor when it is installed.
    PsdOpen {
        /// Folder of PSD and PSB files.
        #[arg(default_value = "../shared/fixtures/psd-corpus")]
        dir: PathBuf,
        /// Skip the psd-tools comparison.
        #[arg(long)]
        no_psd_tools: bool,
    },
    /// Image completion (inpainting) on real photos with object-shaped holes: hole PSNR,
    /// SSIM, texture ratio and s/Mpx, against OpenCV Telea / Navier–Stokes and GIMP's
    /// Resynthesizer where installed.
    Inpaint {
        /// Picture size, a side (square) or WIDTHxHEIGHT.
        #[arg(long, value_parser = crate::bench::parse_size, default_value = "640x480")]
        size: (u32, u32),
        /// Holes cut into each photo (each its own picture).
        #[arg(long, default_value_t = 2)]
        holes: usize,
        /// Seed of the hole placement and of Strata's fill.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Folder of the designs assets (default: assets/bench/designs of the source tree).
        #[arg(long)]
        assets: Option<PathBuf>,
        /// Keep every picture, mask and result in this folder.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let limits = match cli.max_memory {
        Some(mib) => io::Limits::within_memory(mib.saturating_mul(1 << 20)),
        None => io::Limits::default(),
    };
    let open = |path: &Path| open(path, &limits);
    match cli.command {
        None => strata::ui::run(cli.file),
        Some(_) if cli.file.is_some() => {
            bail!("give either a file to open in the editor or a subcommand, not both")
        }
        Some(Command::Info { file }) => {
            let doc = open(&file)?;
            print!("{}", crate::info::describe(&file, &doc));
            Ok(())
        }
        Some(Command::Flatten { input, output, gpu }) => {
            if ExportFormat::from_path(&output) != Some(ExportFormat::FlatPng) {
                bail!(
                    "{}: flatten writes PNG; name the output *.png",
                    output.display()
                );
            }
            let doc = open(&input)?;
            if gpu {
                let flat =
                    strata::gpu::composite_headless(&doc).context("GPU compositing failed")?;
                io::save_png(&flat, &output)?;
            } else {
                io::save_as(&doc, &output, ExportFormat::FlatPng)?;
            }
            Ok(())
        }
        Some(Command::Decompose {
            input,
            method,
            layers,
            seed,
            output,
            qwen,
        }) => {
            let options = strata::decompose::Options {
                method,
                layers,
                seed,
            };
            let settings = strata::decompose::registry::MethodSettings {
                qwen: qwen.settings(),
            };
            let decomposer = strata::decompose::registry::decomposer_for(method, &settings)
                .map_err(|err| anyhow::anyhow!("{err}"))?;
            crate::decompose_cli::run(&input, &output, options, &limits, decomposer)
        }
        Some(Command::Inpaint {
            input,
            mask,
            exclude,
            output,
            seed,
        }) => crate::inpaint_cli::run(
            &crate::inpaint_cli::InpaintRequest {
                input: &input,
                mask: &mask,
                exclude: exclude.as_deref(),
                output: &output,
                seed,
            },
            &limits,
        ),
        Some(Command::Convert { input, output }) => {
            let doc = open(&input)?;
            io::save(&doc, &output)?;
            Ok(())
        }
        Some(Command::ExportLayers { input, output }) => {
            let doc = open(&input)?;
            let written = io::export_layers(&doc, &output)?;
            println!("wrote {} layer PNGs to {}", written.len(), output.display());
            Ok(())
        }
        Some(Command::Bench(BenchCommand::Composite {
            sizes,
            layers,
            frames,
            no_imagemagick,
        })) => crate::bench::run_composite(&crate::bench::CompositeBench {
            sizes,
            layer_counts: layers,
            frames,
            imagemagick: !no_imagemagick,
        }),
        Some(Command::Bench(BenchCommand::PsdOpen { dir, no_psd_tools })) => {
            crate::bench::run_psd_open(&crate::bench::PsdOpenBench {
                dir,
                psd_tools: !no_psd_tools,
            })
        }
        Some(Command::Bench(BenchCommand::Inpaint {
            size,
            holes,
            seed,
            assets,
            keep,
        })) => crate::bench::run_inpaint(&crate::bench::InpaintBench {
            size,
            holes_per_photo: holes,
            seed,
            assets,
            keep,
        }),
        Some(Command::Bench(BenchCommand::Decompose {
            methods,
            set,
            scenes,
            size,
            seed,
            no_grouping,
            true_count,
            assets,
            psd_dir,
        })) => crate::bench::run_decompose(&crate::bench::DecomposeBench {
            methods: if methods.is_empty() {
                strata::decompose::Method::ALL.to_vec()
            } else {
                methods
            },
            set,
            scenes,
            size,
            seed,
            group_top_layers: !no_grouping,
            true_count,
            assets,
            psd_dir,
        }),
    }
}

/// Opens an input file, printing what the reader has to say about it (a conversion, what
/// it could not draw) to stderr, one line per notice, naming the file.
pub fn open(path: &Path, limits: &io::Limits) -> Result<Document> {
    let opened = io::open_with_notices(path, limits).context("cannot open input")?;
    for notice in &opened.notices {
        eprintln!("{}: {notice}", path.display());
    }
    Ok(opened.document)
}
