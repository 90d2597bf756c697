// Layer compositing, one draw per layer chunk.
//
// Layers are straight-alpha RGBA8 (as files store them); the canvas is premultiplied float (RGBA32F, or RGBA16F),
// so 16+ layers accumulate without 8-bit rounding at every step. The maths is the W3C
// compositing formula, the same as src/model/composite_cpu.rs, which is the reference:
//   co = as·((1 − ab)·Cs + ab·B(Cb, Cs)) + cb·(1 − as),   ao = as + ab·(1 − as)
// Normal layers use fs_normal with fixed-function premultiplied "over" blending; every other
// mode uses fs_blend, which reads the backdrop from a copy of the canvas region it covers.
// `struct Draw`, the vertex helpers and the (un)premultiply helpers are in prelude.wgsl.

@group(0) @binding(0) var<uniform> draw: Draw;
@group(0) @binding(1) var layer_tex: texture_2d<f32>;
@group(0) @binding(2) var backdrop_tex: texture_2d<f32>;

// Must match the order of model::BlendMode (checked by a test in src/gpu/pipelines.rs).
const MODE_NORMAL: u32 = 0u;
const MODE_MULTIPLY: u32 = 1u;
const MODE_SCREEN: u32 = 2u;
const MODE_OVERLAY: u32 = 3u;
const MODE_DARKEN: u32 = 4u;
const MODE_LIGHTEN: u32 = 5u;
const MODE_COLOR_DODGE: u32 = 6u;
const MODE_COLOR_BURN: u32 = 7u;
const MODE_HARD_LIGHT: u32 = 8u;
const MODE_SOFT_LIGHT: u32 = 9u;
const MODE_DIFFERENCE: u32 = 10u;
const MODE_EXCLUSION: u32 = 11u;
const MODE_ADD: u32 = 12u;

@vertex
fn vs_rect(@builtin(vertex_index) i: u32) -> VsOut {
    // Rectangle edges sit on whole pixels, so pixel centres are never on an edge.
    let origin = vec2<f32>(draw.origin);
    return rect_vertex(i, origin, origin + vec2<f32>(draw.size), draw.target_size);
}

fn layer_texel(pos: vec4<f32>) -> vec4<f32> {
    let texel = vec2<i32>(floor(pos.xy)) - draw.origin + draw.src;
    return textureLoad(layer_tex, texel, 0);
}

@fragment
fn fs_normal(in: VsOut) -> @location(0) vec4<f32> {
    let s = layer_texel(in.pos);
    return premultiply(vec4<f32>(s.rgb, s.a * draw.opacity));
}

fn hard_light(cb: vec3<f32>, cs: vec3<f32>) -> vec3<f32> {
    let s = 2.0 * cs - 1.0;
    return select(cb + s - cb * s, cb * 2.0 * cs, cs <= vec3<f32>(0.5));
}

fn color_dodge(cb: f32, cs: f32) -> f32 {
    if cb <= 0.0 { return 0.0; }
    if cs >= 1.0 { return 1.0; }
    return min(1.0, cb / (1.0 - cs));
}

fn color_burn(cb: f32, cs: f32) -> f32 {
    if cb >= 1.0 { return 1.0; }
    if cs <= 0.0 { return 0.0; }
    return 1.0 - min(1.0, (1.0 - cb) / cs);
}

fn soft_light(cb: f32, cs: f32) -> f32 {
    if cs <= 0.5 {
        return cb - (1.0 - 2.0 * cs) * cb * (1.0 - cb);
    }
    var d = sqrt(cb);
    if cb <= 0.25 {
        d = ((16.0 * cb - 12.0) * cb + 4.0) * cb;
    }
    return cb + (2.0 * cs - 1.0) * (d - cb);
}

// The separable blend function B(Cb, Cs) on straight colour.
fn blend(cb: vec3<f32>, cs: vec3<f32>, mode: u32) -> vec3<f32> {
    switch mode {
        case MODE_MULTIPLY: { return cb * cs; }
        case MODE_SCREEN: { return cb + cs - cb * cs; }
        case MODE_OVERLAY: { return hard_light(cs, cb); }
        case MODE_DARKEN: { return min(cb, cs); }
        case MODE_LIGHTEN: { return max(cb, cs); }
        case MODE_COLOR_DODGE: {
            return vec3<f32>(color_dodge(cb.r, cs.r), color_dodge(cb.g, cs.g), color_dodge(cb.b, cs.b));
        }
        case MODE_COLOR_BURN: {
            return vec3<f32>(color_burn(cb.r, cs.r), color_burn(cb.g, cs.g), color_burn(cb.b, cs.b));
        }
        case MODE_HARD_LIGHT: { return hard_light(cb, cs); }
        case MODE_SOFT_LIGHT: {
            return vec3<f32>(soft_light(cb.r, cs.r), soft_light(cb.g, cs.g), soft_light(cb.b, cs.b));
        }
        case MODE_DIFFERENCE: { return abs(cb - cs); }
        case MODE_EXCLUSION: { return cb + cs - 2.0 * cb * cs; }
        case MODE_ADD: { return min(vec3<f32>(1.0), cb + cs); }
        default: { return cs; }
    }
}

@fragment
fn fs_blend(in: VsOut) -> @location(0) vec4<f32> {
    let s = layer_texel(in.pos);
    let b = textureLoad(backdrop_tex, vec2<i32>(floor(in.pos.xy)), 0);
    let a_s = s.a * draw.opacity;
    let a_b = b.a;
    // The formulas expect straight colour in 0..1.
    let cb = straight_rgb(b);
    let mixed = (1.0 - a_b) * s.rgb + a_b * blend(cb, s.rgb, draw.mode);
    return vec4<f32>(a_s * mixed + b.rgb * (1.0 - a_s), a_s + a_b * (1.0 - a_s));
}
