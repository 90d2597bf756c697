// Draws the composited canvas into the editor's viewport: zoomed and panned, over a
// checkerboard where it is transparent. The canvas is premultiplied, so "over the
// checkerboard" is c + checker·(1 − a). Colours are the stored (sRGB-encoded) values, passed
// through unchanged, as egui's own textures are.

struct View {
    // The tile's rectangle in viewport pixels: left, top, right, bottom.
    rect: vec4<f32>,
    viewport_size: vec2<f32>,
    // Canvas pixels per viewport pixel (1 / zoom).
    texels_per_pixel: f32,
    checker_size: f32,
    // Viewport pixel where canvas pixel (0, 0) of this tile lands.
    origin: vec2<f32>,
    tile_size: vec2<f32>,
};

@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var canvas_tex: texture_2d<f32>;

@vertex
fn vs_tile(@builtin(vertex_index) i: u32) -> VsOut {
    return rect_vertex(i, view.rect.xy, view.rect.zw, view.viewport_size);
}

fn texel(coord: vec2<f32>) -> vec4<f32> {
    let max_texel = vec2<i32>(view.tile_size) - vec2<i32>(1);
    let t = clamp(vec2<i32>(floor(coord)), vec2<i32>(0), max_texel);
    return textureLoad(canvas_tex, t, 0);
}

@fragment
fn fs_tile(in: VsOut) -> @location(0) vec4<f32> {
    let coord = (in.viewport_px - view.origin) * view.texels_per_pixel;
    var c: vec4<f32>;
    if view.texels_per_pixel > 1.0 {
        // Zoomed out: average four taps across the pixel's footprint to tame aliasing.
        let q = view.texels_per_pixel * 0.25;
        c = 0.25 * (texel(coord + vec2<f32>(-q, -q)) + texel(coord + vec2<f32>(q, -q))
            + texel(coord + vec2<f32>(-q, q)) + texel(coord + vec2<f32>(q, q)));
    } else {
        c = texel(coord);
    }
    let cell = vec2<i32>(floor(in.viewport_px / view.checker_size));
    let light = ((cell.x + cell.y) & 1) == 0;
    let checker = select(vec3<f32>(0.8), vec3<f32>(1.0), light);
    return vec4<f32>(c.rgb + checker * (1.0 - c.a), 1.0);
}
