//! `strata bench composite`: GPU compositing against the CPU reference and ImageMagick,
//! measured in the same run on the same layers, reported as ms/frame and ratios.
//!
//! Layers: one canvas-sized background plus N−1 layers of a quarter of the canvas area with
//! soft alpha at scattered offsets (what a decomposition produces: objects smaller than the
//! picture). ImageMagick gets the same layers as uncompressed PAM files with page offsets and
//! runs `convert … -background none -flatten`; its time includes reading those files, which is
//! part of any flatten it does.
//!
//! The "display" column is what the editor does while a layer is dragged: the compositor's
//! view path for a 1600×1000 viewport showing the whole document (fit zoom) plus drawing that
//! view composite over the checkerboard into a 1600×1000 screen texture. Its "zoom" column
//! is one exact zoom step; "zoom frame (gesture)" is a frame during a zoom gesture, which
//! resamples the last exact composite instead (`Compositor::render_view_scaled`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use image::{Rgba, RgbaImage};
use strata::gpu::{Compositor, Display, HeadlessGpu, ViewTransform};
use strata::model::{Document, Offset, composite};

/// Options of `strata bench composite`.
pub struct CompositeBench {
    pub sizes: Vec<u32>,
    pub layer_counts: Vec<usize>,
    pub frames: u32,
    pub imagemagick: bool,
}

/// One row of the report.
struct Row {
    size: u32,
    layers: usize,
    gpu_full: Duration,
    gpu_drag: Duration,
    display_drag: Duration,
    display_pan: Duration,
    display_zoom: Duration,
    display_gesture: Duration,
    cpu: Duration,
    imagemagick: Option<Duration>,
}

pub fn run_composite(options: &CompositeBench) -> Result<()> {
    let gpu = HeadlessGpu::new()?;
    println!(
        "GPU: {} ({:?}, {:?})",
        gpu.adapter.name, gpu.adapter.backend, gpu.adapter.device_type
    );
    println!("CPU reference: {} threads", rayon::current_num_threads());
    let magick = options.imagemagick.then(find_imagemagick).flatten();
    match (&magick, options.imagemagick) {
        (Some(cmd), _) => println!("ImageMagick: {cmd}"),
        (None, false) => println!("ImageMagick: not measured (--no-imagemagick)"),
        (None, true) => println!("ImageMagick: not measured (install imagemagick to compare)"),
    }
    let mut compositor = Compositor::new(gpu.device, gpu.queue);
    let mut rows = Vec::new();
    for &size in &options.sizes {
        for &count in &options.layer_counts {
            let doc = bench_document(size, count);
            let row = measure(&mut compositor, &doc, options.frames, magick.as_deref())
                .with_context(|| format!("{count} layers at {size}²"))?;
            print_row(&row);
            rows.push(row);
        }
    }
    println!();
    print_table(&rows);
    Ok(())
}

fn measure(
    compositor: &mut Compositor,
    doc: &Document,
    frames: u32,
    magick: Option<&str>,
) -> Result<Row> {
    // Warm-up uploads the layers and allocates the canvas; it is not part of a frame.
    compositor.render(doc)?;
    compositor.read_rgba()?;
    let gpu_full = time_frames(frames, || {
        compositor.render(doc)?;
        wait(compositor)
    })?;

    let mut dragged = doc.clone();
    let middle = dragged.layers.len() / 2;
    let id = dragged.layers[middle].id;
    compositor.render_dragging(&dragged, id)?; // builds the caches once per drag
    wait(compositor)?;
    let mut step = 0;
    let gpu_drag = time_frames(frames, || {
        step += 1;
        dragged.layers[middle].offset.x += 3 * step;
        compositor.render_dragging(&dragged, id)?;
        wait(compositor)
    })?;

    let [display_drag, display_pan, display_zoom, display_gesture] =
        display_frames(compositor, doc, frames)?;

    let cpu = time_frames(frames.min(3), || {
        std::hint::black_box(composite(doc));
        Ok(())
    })?;
    // ImageMagick's resource policy (Debian caps its pixel cache) can refuse big stacks;
    // that row then reports no peer figure instead of ending the whole run.
    let imagemagick = magick.and_then(|cmd| match imagemagick_flatten(cmd, doc) {
        Ok(time) => Some(time),
        Err(err) => {
            eprintln!("ImageMagick not measured for this row: {err:#}");
            None
        }
    });
    Ok(Row {
        size: doc.width,
        layers: doc.layers.len(),
        gpu_full,
        gpu_drag,
        display_drag,
        display_pan,
        display_zoom,
        display_gesture,
        cpu,
        imagemagick,
    })
}

/// The editor's viewport in the "display" column, in physical pixels.
const SCREEN: (u32, u32) = (1600, 1000);

/// How a display frame gets its view composite.
#[derive(Clone, Copy)]
enum Frame {
    /// `render_view_dragging` (the middle layer is moving).
    Drag,
    /// `render_view`: exact, reusing what a whole-pixel pan keeps.
    Plain,
    /// `render_view_scaled`: the last exact composite resampled (a zoom gesture).
    Gesture,
}

/// Median times of a drag, a pan, a zoom step and a zoom-gesture frame as the editor draws
/// them: the view composite of a [`SCREEN`]-sized viewport at fit zoom and the display pass
/// that puts it on a screen texture. A drag frame reuses the caches below/above the dragged
/// layer (built once, before timing); a pan frame moves the view by a pixel (what stays on
/// screen is reused); a zoom step zooms out by 1 % exactly, so every visible layer is drawn
/// again; a gesture frame zooms out by 1 % by resampling the last exact composite, as the
/// editor does while a zoom gesture goes on.
fn display_frames(
    compositor: &mut Compositor,
    doc: &Document,
    frames: u32,
) -> Result<[Duration; 4]> {
    let zoom = (SCREEN.0 as f32 / doc.width as f32).min(SCREEN.1 as f32 / doc.height as f32);
    let origin = [
        ((SCREEN.0 as f32 - doc.width as f32 * zoom) / 2.0).round(),
        ((SCREEN.1 as f32 - doc.height as f32 * zoom) / 2.0).round(),
    ];
    let view = ViewTransform {
        viewport_size: [SCREEN.0 as f32, SCREEN.1 as f32],
        origin,
        zoom,
        checker_size: 8.0,
    };
    let device = compositor.device().clone();
    let format = wgpu::TextureFormat::Rgba8Unorm;
    let mut display = Display::new(&device, format);
    let screen = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("bench screen"),
        size: wgpu::Extent3d {
            width: SCREEN.0,
            height: SCREEN.1,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
        view_formats: &[],
    });
    let screen_view = screen.create_view(&wgpu::TextureViewDescriptor::default());
    let mut dragged = doc.clone();
    let middle = dragged.layers.len() / 2;
    let id = dragged.layers[middle].id;
    let mut frame = |compositor: &mut Compositor,
                     dragged: &Document,
                     view: &ViewTransform,
                     kind: Frame|
     -> Result<()> {
        match kind {
            Frame::Drag => compositor.render_view_dragging(dragged, view, id)?,
            Frame::Plain => compositor.render_view(dragged, view)?,
            Frame::Gesture => compositor.render_view_scaled(dragged, view)?,
        }
        display.prepare(compositor, view);
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("bench display"),
        });
        {
            let pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("bench display"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &screen_view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            display.paint(&mut pass.forget_lifetime());
        }
        compositor.queue().submit([encoder.finish()]);
        wait(compositor)
    };
    // Uploads the mip levels and builds the view caches once per drag, as the editor does.
    frame(compositor, &dragged, &view, Frame::Drag)?;
    let mut step = 0;
    let drag = time_frames(frames, || {
        step += 1;
        dragged.layers[middle].offset.x += 3 * step;
        frame(compositor, &dragged, &view, Frame::Drag)
    })?;
    let mut panned = view;
    let pan = time_frames(frames, || {
        panned.origin[0] += 1.0;
        frame(compositor, &dragged, &panned, Frame::Plain)
    })?;
    let mut zoomed = view;
    let zoom = time_frames(frames, || {
        zoomed.zoom *= 0.99;
        frame(compositor, &dragged, &zoomed, Frame::Plain)
    })?;
    // The last zoom step left an exact composite: the gesture resamples it.
    let gesture = time_frames(frames, || {
        zoomed.zoom *= 0.99;
        frame(compositor, &dragged, &zoomed, Frame::Gesture)
    })?;
    Ok([drag, pan, zoom, gesture])
}

/// Blocks until the GPU has finished everything submitted so far.
fn wait(compositor: &Compositor) -> Result<()> {
    compositor
        .device()
        .poll(wgpu::PollType::wait_indefinitely())?;
    Ok(())
}

/// Median time of `frames` calls.
fn time_frames(frames: u32, mut frame: impl FnMut() -> Result<()>) -> Result<Duration> {
    let mut times = Vec::with_capacity(frames as usize);
    for _ in 0..frames.max(1) {
        let start = Instant::now();
        frame()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

/// Background + layers with soft alpha, a quarter of the canvas area each.
fn bench_document(size: u32, count: usize) -> Document {
    let mut doc = Document::new(size, size);
    doc.push_layer(
        "background",
        RgbaImage::from_fn(size, size, |x, y| {
            Rgba([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8, 255])
        }),
    );
    let side = size / 2;
    for i in 1..count {
        let hue = (i * 37 % 255) as u8;
        let pixels = RgbaImage::from_fn(side, side, |x, y| {
            let dx = x as f32 / side as f32 - 0.5;
            let dy = y as f32 / side as f32 - 0.5;
            let alpha = (1.0 - (dx * dx + dy * dy).sqrt() * 2.0).clamp(0.0, 1.0);
            Rgba([hue, 255 - hue, (x % 255) as u8, (alpha * 255.0) as u8])
        });
        let layer = doc.push_layer(format!("object {i}"), pixels);
        let step = (size - side) as usize / count.max(1);
        layer.offset = Offset::new((i * step) as i32, ((count - i) * step) as i32);
    }
    doc
}

fn find_imagemagick() -> Option<String> {
    ["magick", "convert"]
        .into_iter()
        .map(String::from)
        .find(|cmd| {
            Command::new(cmd).arg("-version").output().is_ok_and(|out| {
                out.status.success() && String::from_utf8_lossy(&out.stdout).contains("ImageMagick")
            })
        })
}

fn imagemagick_flatten(cmd: &str, doc: &Document) -> Result<Duration> {
    let dir = tempfile::tempdir()?;
    let mut args = vec!["-background".to_string(), "none".to_string()];
    for (i, layer) in doc.layers.iter().enumerate() {
        let path = dir.path().join(format!("{i}.pam"));
        write_pam(&path, &layer.pixels)?;
        args.push("-page".into());
        args.push(format!("{:+}{:+}", layer.offset.x, layer.offset.y));
        args.push(path.display().to_string());
    }
    args.extend([
        "-flatten".to_string(),
        dir.path().join("out.pam").display().to_string(),
    ]);
    let start = Instant::now();
    let status = Command::new(cmd)
        .args(&args)
        .stderr(std::process::Stdio::null())
        .status()
        .with_context(|| format!("running {cmd}"))?;
    let elapsed = start.elapsed();
    anyhow::ensure!(status.success(), "{cmd} -flatten failed ({status})");
    Ok(elapsed)
}

/// Uncompressed PAM: the cheapest RGBA format for ImageMagick to read.
fn write_pam(path: &Path, image: &RgbaImage) -> Result<()> {
    let header = format!(
        "P7\nWIDTH {}\nHEIGHT {}\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\nENDHDR\n",
        image.width(),
        image.height()
    );
    let mut bytes = header.into_bytes();
    bytes.extend_from_slice(image.as_raw());
    std::fs::write(path, bytes)?;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print_row(row: &Row) {
    let magick = row
        .imagemagick
        .map_or("n/a".to_string(), |d| format!("{:.1} ms", ms(d)));
    println!(
        "{:>2} layers at {}²: GPU full {:.1} ms, GPU drag {:.1} ms, display drag {:.1} ms, display pan {:.1} ms, display zoom {:.1} ms, zoom frame (gesture) {:.1} ms, CPU {:.1} ms, ImageMagick {}",
        row.layers,
        row.size,
        ms(row.gpu_full),
        ms(row.gpu_drag),
        ms(row.display_drag),
        ms(row.display_pan),
        ms(row.display_zoom),
        ms(row.display_gesture),
        ms(row.cpu),
        magick
    );
}

fn print_table(rows: &[Row]) {
    println!(
        "| canvas | layers | GPU full ms | GPU drag ms | display drag ms ({}×{}) | display pan ms | display zoom ms | zoom frame (gesture) ms | CPU ms | ImageMagick ms | IM / GPU full | CPU / GPU full | full / drag |",
        SCREEN.0, SCREEN.1
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        let (magick, ratio) = match row.imagemagick {
            Some(d) => (
                format!("{:.0}", ms(d)),
                format!("{:.1}×", ms(d) / ms(row.gpu_full)),
            ),
            None => ("n/a".into(), "n/a".into()),
        };
        println!(
            "| {}² | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {:.1}× | {:.1}× |",
            row.size,
            row.layers,
            ms(row.gpu_full),
            ms(row.gpu_drag),
            ms(row.display_drag),
            ms(row.display_pan),
            ms(row.display_zoom),
            ms(row.display_gesture),
            ms(row.cpu),
            magick,
            ratio,
            ms(row.cpu) / ms(row.gpu_full),
            ms(row.gpu_full) / ms(row.gpu_drag),
        );
    }
}
