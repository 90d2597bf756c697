// Draws the view composite (src/gpu/view.rs: the visible part of the document, already at
// screen resolution) into the editor's viewport 1:1, over a checkerboard where it is
// transparent. The composite is premultiplied, so "over the checkerboard" is
// c + checker·(1 − a). Colours are the stored (sRGB-encoded) values, passed through
// unchanged, as egui's own textures are.

struct View {
    // The rectangle to draw, in viewport pixels: left, top, right, bottom.
    rect: vec4<f32>,
    viewport_size: vec2<f32>,
    // Viewport pixels per document pixel.
    zoom: f32,
    checker_size: f32,
    // Viewport pixel where document pixel (0, 0)'s corner lands.
    origin: vec2<f32>,
    doc_size: vec2<f32>,
};

@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var canvas_tex: texture_2d<f32>;

@vertex
fn vs_tile(@builtin(vertex_index) i: u32) -> VsOut {
    return rect_vertex(i, view.rect.xy, view.rect.zw, view.viewport_size);
}

@fragment
fn fs_tile(in: VsOut) -> @location(0) vec4<f32> {
    // The interpolated varying is the pixel's centre only up to rounding; snapping it makes
    // the test below the exact formula view_composite.wgsl uses, so the checkerboard covers
    // exactly the pixels the composite covers.
    let centre = floor(in.viewport_px) + vec2<f32>(0.5);
    let cell = floor((centre - view.origin) / view.zoom);
    if any(cell < vec2<f32>(0.0)) || any(cell >= view.doc_size) {
        discard;
    }
    let c = textureLoad(canvas_tex, vec2<i32>(floor(centre)), 0);
    let square = vec2<i32>(floor(centre / view.checker_size));
    let light = ((square.x + square.y) & 1) == 0;
    let checker = select(vec3<f32>(0.8), vec3<f32>(1.0), light);
    return vec4<f32>(c.rgb + checker * (1.0 - c.a), 1.0);
}
