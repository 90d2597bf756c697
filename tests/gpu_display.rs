//! The editor's on-screen canvas drawing (zoom, pan, checkerboard) against the CPU reference.

mod common;

use common::{Rng, patterned_image};
use strata::gpu::{Compositor, Display, HeadlessGpu, ViewTransform, read_texture_rgba8};
use strata::model::{Document, Offset, composite};

#[test]
fn zoomed_panned_canvas_over_checkerboard_matches_the_reference() {
    let gpu = match HeadlessGpu::new() {
        Ok(gpu) => gpu,
        Err(err) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI needs a GPU adapter: {err}")
        }
        Err(err) => return eprintln!("skipping GPU test: {err}"),
    };
    let mut rng = Rng::new(4);
    let mut doc = Document::new(10, 6);
    doc.push_layer("half", patterned_image(&mut rng, 6, 6));
    doc.push_layer("spot", patterned_image(&mut rng, 3, 2))
        .offset = Offset::new(6, 3);
    let reference = composite(&doc);

    let format = wgpu::TextureFormat::Rgba8Unorm;
    let mut compositor =
        Compositor::new(gpu.device.clone(), gpu.queue.clone()).with_max_tile_side(4);
    let mut display = Display::new(&gpu.device, format);
    let view = ViewTransform {
        viewport_size: [40.0, 30.0],
        origin: [5.0, 3.0],
        zoom: 2.0,
        checker_size: 4.0,
    };
    compositor.render_view(&doc, &view).expect("render");
    display.prepare(&compositor, &view);

    let target = gpu.device.create_texture(&wgpu::TextureDescriptor {
        label: Some("screen"),
        size: wgpu::Extent3d {
            width: 40,
            height: 30,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let target_view = target.create_view(&wgpu::TextureViewDescriptor::default());
    let mut encoder = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
    {
        let pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: None,
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &target_view,
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
        let mut pass = pass.forget_lifetime();
        display.paint(&mut pass);
    }
    gpu.queue.submit([encoder.finish()]);
    let screen = read_texture_rgba8(&gpu.device, &gpu.queue, &target).expect("read");

    for (x, y, px) in screen.enumerate_pixels() {
        let (cx, cy) = ((x as i32 - 5).div_euclid(2), (y as i32 - 3).div_euclid(2));
        let inside = (0..10).contains(&cx) && (0..6).contains(&cy);
        if !inside {
            assert_eq!(
                px.0,
                [0, 0, 0, 255],
                "({x}, {y}) outside the canvas was drawn on"
            );
            continue;
        }
        let c = reference.get_pixel(cx as u32, cy as u32).0;
        let checker = if ((x / 4) + (y / 4)) % 2 == 0 {
            255.0
        } else {
            204.0
        };
        let a = f32::from(c[3]) / 255.0;
        for ch in 0..3 {
            let expected = f32::from(c[ch]) * a + checker * (1.0 - a);
            let diff = (f32::from(px[ch]) - expected).abs();
            assert!(
                diff <= 1.5,
                "({x}, {y}) channel {ch}: {} vs {expected}",
                px[ch]
            );
        }
    }
}
