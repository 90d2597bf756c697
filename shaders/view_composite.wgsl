// Layer compositing straight into a viewport-sized target: the view path of the editor.
//
// This file is appended to composite.wgsl and reuses its blend maths (`blend_pixel`, the
// MODE_ constants), so the per-pixel formula is the one the full-resolution path and the CPU
// reference use. Only how a screen pixel finds its layer colour differs:
// - zoom ≥ 1: the pixel's centre falls in one document pixel, whose texel is read exactly
//   (nearest): the result is the full-resolution composite of the visible pixels, enlarged;
// - zoom < 1: a pixel covers several document pixels; the layer is read from the mip level
//   chosen on the CPU (texels no larger than a screen pixel) with premultiplied bilinear
//   filtering, so transparent texels do not bleed their colour into soft edges.
// Which pixels a layer covers is decided here, per pixel, by the same formula for every
// layer and for display.wgsl: the document pixel under the pixel's centre.

struct ViewDraw {
    // Rectangle to rasterise, in target pixels (left, top, right, bottom); a little larger
    // than the layer, which the fragment stage trims exactly.
    quad: vec4<f32>,
    // Document pixels this draw covers: left, top, right, bottom (exclusive).
    cells: vec4<i32>,
    // Target pixel where document pixel (0, 0)'s corner lands, and the target's size.
    origin: vec2<f32>,
    target_size: vec2<f32>,
    // Document pixel of the layer texture's texel (0, 0).
    chunk_origin: vec2<i32>,
    // Target pixels per document pixel.
    zoom: f32,
    opacity: f32,
    mode: u32,
    level: u32,
    // The layer's fill opacity; `opacity` is the layer opacity alone.
    fill: f32,
    _pad_view: u32,
};

@group(0) @binding(3) var<uniform> view_draw: ViewDraw;

@vertex
fn vs_view(@builtin(vertex_index) i: u32) -> VsOut {
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
        vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
    );
    let px = mix(view_draw.quad.xy, view_draw.quad.zw, corners[i]);
    let size = view_draw.target_size;
    var out: VsOut;
    out.pos = vec4<f32>(px.x / size.x * 2.0 - 1.0, 1.0 - px.y / size.y * 2.0, 0.0, 1.0);
    return out;
}

fn premultiplied(s: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(s.rgb * s.a, s.a);
}

// The layer's premultiplied colour at this pixel (before opacity); discards pixels whose
// centre lies outside the layer (or the document).
fn view_layer_colour(pos: vec4<f32>) -> vec4<f32> {
    let doc = (pos.xy - view_draw.origin) / view_draw.zoom;
    let cell = vec2<i32>(floor(doc));
    if any(cell < view_draw.cells.xy) || any(cell >= view_draw.cells.zw) {
        discard;
    }
    if view_draw.zoom >= 1.0 {
        return premultiplied(textureLoad(layer_tex, cell - view_draw.chunk_origin, 0));
    }
    let level = i32(view_draw.level);
    let scale = f32(1 << view_draw.level);
    // Level texel centres sit at half-integers of this coordinate.
    let t = (doc - vec2<f32>(view_draw.chunk_origin)) / scale - 0.5;
    let base = vec2<i32>(floor(t));
    let f = t - floor(t);
    let last = vec2<i32>(textureDimensions(layer_tex, level)) - vec2<i32>(1);
    let a = premultiplied(textureLoad(layer_tex, clamp(base, vec2<i32>(0), last), level));
    let b = premultiplied(textureLoad(layer_tex, clamp(base + vec2<i32>(1, 0), vec2<i32>(0), last), level));
    let c = premultiplied(textureLoad(layer_tex, clamp(base + vec2<i32>(0, 1), vec2<i32>(0), last), level));
    let d = premultiplied(textureLoad(layer_tex, clamp(base + vec2<i32>(1, 1), vec2<i32>(0), last), level));
    return mix(mix(a, b, f.x), mix(c, d, f.x), f.y);
}

@fragment
fn fs_view_normal(in: VsOut) -> @location(0) vec4<f32> {
    return view_layer_colour(in.pos) * (view_draw.opacity * view_draw.fill);
}

@fragment
fn fs_view_blend(in: VsOut) -> @location(0) vec4<f32> {
    let p = view_layer_colour(in.pos);
    var s = vec3<f32>(0.0);
    if p.a > 0.0 {
        s = clamp(p.rgb / p.a, vec3<f32>(0.0), vec3<f32>(1.0));
    }
    let b = textureLoad(backdrop_tex, vec2<i32>(floor(in.pos.xy)), 0);
    // Dissolve's pattern is per document pixel: the one under this pixel's centre (when
    // zoomed out, the filtered alpha of the pixels it covers decides).
    let cell = vec2<i32>(floor((in.pos.xy - view_draw.origin) / view_draw.zoom));
    return blend_pixel(s, p.a * view_draw.opacity, view_draw.fill, b, view_draw.mode, cell);
}
