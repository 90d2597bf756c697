// Draws a premultiplied float texture (a cached stack of layers) over the target with
// fixed-function premultiplied "over" blending. Used by the live-drag path for the cached
// composite of the layers above the dragged one.

struct Draw {
    origin: vec2<i32>,
    size: vec2<i32>,
    src: vec2<i32>,
    target_size: vec2<f32>,
    opacity: f32,
    mode: u32,
    _pad: vec2<u32>,
};

@group(0) @binding(0) var<uniform> draw: Draw;
@group(0) @binding(1) var premul_tex: texture_2d<f32>;

struct VsOut {
    @builtin(position) pos: vec4<f32>,
};

@vertex
fn vs_rect(@builtin(vertex_index) i: u32) -> VsOut {
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
        vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
    );
    let px = vec2<f32>(draw.origin) + corners[i] * vec2<f32>(draw.size);
    let ndc = vec2<f32>(px.x / draw.target_size.x * 2.0 - 1.0, 1.0 - px.y / draw.target_size.y * 2.0);
    var out: VsOut;
    out.pos = vec4<f32>(ndc, 0.0, 1.0);
    return out;
}

@fragment
fn fs_premul(in: VsOut) -> @location(0) vec4<f32> {
    let texel = vec2<i32>(floor(in.pos.xy)) - draw.origin + draw.src;
    return textureLoad(premul_tex, texel, 0) * draw.opacity;
}
