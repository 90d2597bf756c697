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
const MODE_DISSOLVE: u32 = 13u;
const MODE_DARKER_COLOR: u32 = 14u;
const MODE_LIGHTER_COLOR: u32 = 15u;
const MODE_LINEAR_BURN: u32 = 16u;
const MODE_LINEAR_LIGHT: u32 = 17u;
const MODE_VIVID_LIGHT: u32 = 18u;
const MODE_PIN_LIGHT: u32 = 19u;
const MODE_HARD_MIX: u32 = 20u;
const MODE_SUBTRACT: u32 = 21u;
const MODE_DIVIDE: u32 = 22u;
const MODE_HUE: u32 = 23u;
const MODE_SATURATION: u32 = 24u;
const MODE_COLOR: u32 = 25u;
const MODE_LUMINOSITY: u32 = 26u;

// Ties of hard mix, darker / lighter colour and divide: see src/model/blend_math.rs.
const HARD_MIX_TIE: f32 = 0.0009765625;
const LUM_TIE: f32 = 1e-5;
const BLACK_TIE: f32 = 0.0009765625;

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
    return premultiply(vec4<f32>(s.rgb, s.a * draw.opacity * draw.fill));
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

// Vivid light: burn with 2·Cs or dodge with 2·Cs − 1; the source extremes win.
fn vivid_light(cb: f32, cs: f32) -> f32 {
    if cs <= 0.0 { return 0.0; }
    if cs >= 1.0 { return 1.0; }
    if cs <= 0.5 { return 1.0 - min(1.0, (1.0 - cb) / (2.0 * cs)); }
    return min(1.0, cb / (2.0 * (1.0 - cs)));
}

fn hard_mix(cb: f32, cs: f32) -> f32 {
    let sum = cb + cs;
    var on = sum > 1.0;
    if abs(sum - 1.0) <= HARD_MIX_TIE {
        on = cb > 0.5;
    }
    return select(0.0, 1.0, on);
}

fn divide(cb: f32, cs: f32) -> f32 {
    if cs <= 0.0 { return select(0.0, 1.0, cb > BLACK_TIE); }
    return min(1.0, cb / cs);
}

// The W3C non-separable helpers (src/model/blend_math.rs has the same).
fn lum(c: vec3<f32>) -> f32 {
    return 0.3 * c.r + 0.59 * c.g + 0.11 * c.b;
}

fn sat(c: vec3<f32>) -> f32 {
    return max(c.r, max(c.g, c.b)) - min(c.r, min(c.g, c.b));
}

fn clip_color(c: vec3<f32>) -> vec3<f32> {
    let l = lum(c);
    let n = min(c.r, min(c.g, c.b));
    let x = max(c.r, max(c.g, c.b));
    var out = c;
    if n < 0.0 && l - n > 0.0 {
        out = l + (out - l) * l / (l - n);
    }
    if x > 1.0 && x - l > 0.0 {
        out = l + (out - l) * (1.0 - l) / (x - l);
    }
    return clamp(out, vec3<f32>(0.0), vec3<f32>(1.0));
}

fn set_lum(c: vec3<f32>, l: f32) -> vec3<f32> {
    return clip_color(c + (l - lum(c)));
}

fn set_sat(c: vec3<f32>, s: f32) -> vec3<f32> {
    let n = min(c.r, min(c.g, c.b));
    let x = max(c.r, max(c.g, c.b));
    if x > n {
        return (c - n) * s / (x - n);
    }
    return vec3<f32>(0.0);
}

// Dissolve's fixed pattern: a threshold in (0, 1) per canvas pixel, as
// model::blend_math::dissolve_threshold computes it (same integer hash).
fn lowbias32(v: u32) -> u32 {
    var h = v;
    h = h ^ (h >> 16u);
    h = h * 0x7feb352du;
    h = h ^ (h >> 15u);
    h = h * 0x846ca68bu;
    h = h ^ (h >> 16u);
    return h;
}

fn dissolve_threshold(cell: vec2<i32>) -> f32 {
    let h = lowbias32(bitcast<u32>(cell.x) ^ lowbias32(bitcast<u32>(cell.y)));
    return (f32(h >> 20u) + 0.5) / 4096.0;
}

// The blend function B(Cb, Cs) on straight colour (dissolve is decided by the caller).
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
        case MODE_DARKER_COLOR: { return select(cb, cs, lum(cs) < lum(cb) - LUM_TIE); }
        case MODE_LIGHTER_COLOR: { return select(cb, cs, lum(cs) > lum(cb) + LUM_TIE); }
        case MODE_LINEAR_BURN: { return max(vec3<f32>(0.0), cb + cs - 1.0); }
        case MODE_LINEAR_LIGHT: { return clamp(cb + 2.0 * cs - 1.0, vec3<f32>(0.0), vec3<f32>(1.0)); }
        case MODE_VIVID_LIGHT: {
            return vec3<f32>(vivid_light(cb.r, cs.r), vivid_light(cb.g, cs.g), vivid_light(cb.b, cs.b));
        }
        case MODE_PIN_LIGHT: {
            return select(min(cb, 2.0 * cs), max(cb, 2.0 * cs - 1.0), cs > vec3<f32>(0.5));
        }
        case MODE_HARD_MIX: {
            return vec3<f32>(hard_mix(cb.r, cs.r), hard_mix(cb.g, cs.g), hard_mix(cb.b, cs.b));
        }
        case MODE_SUBTRACT: { return max(vec3<f32>(0.0), cb - cs); }
        case MODE_DIVIDE: {
            return vec3<f32>(divide(cb.r, cs.r), divide(cb.g, cs.g), divide(cb.b, cs.b));
        }
        case MODE_HUE: { return set_lum(set_sat(cs, sat(cb)), lum(cb)); }
        case MODE_SATURATION: { return set_lum(set_sat(cb, sat(cs)), lum(cb)); }
        case MODE_COLOR: { return set_lum(cs, lum(cb)); }
        case MODE_LUMINOSITY: { return set_lum(cb, lum(cs)); }
        default: { return cs; }
    }
}

// The colour a special-eight source moves towards as fill drops, or -1 where fill simply
// multiplies with opacity (BlendMode::fill_neutral).
fn fill_neutral(mode: u32) -> f32 {
    switch mode {
        case MODE_COLOR_BURN, MODE_LINEAR_BURN: { return 1.0; }
        case MODE_COLOR_DODGE, MODE_ADD, MODE_DIFFERENCE: { return 0.0; }
        case MODE_VIVID_LIGHT, MODE_LINEAR_LIGHT: { return 0.5; }
        default: { return -1.0; }
    }
}

// One blend-mode pixel: straight layer colour `s` with alpha `alpha` (opacity included) and
// `fill`, over the premultiplied backdrop `b`, at canvas pixel `cell` (for dissolve). The
// formula of model::composite_cpu::blend_pixel_at.
fn blend_pixel(s: vec3<f32>, alpha: f32, fill: f32, b: vec4<f32>, mode: u32, cell: vec2<i32>) -> vec4<f32> {
    let a_s = alpha * fill;
    if mode == MODE_DISSOLVE {
        if a_s > dissolve_threshold(cell) {
            return vec4<f32>(s, 1.0);
        }
        return b;
    }
    let a_b = b.a;
    // The colour the blend function sees where the layer meets the backdrop, and at what
    // alpha its result covers the backdrop.
    var blend_src = s;
    var blend_alpha = a_s;
    let neutral = fill_neutral(mode);
    if neutral >= 0.0 && fill < 1.0 {
        blend_src = neutral + fill * (s - neutral);
        blend_alpha = alpha;
    }
    // The formulas expect straight colour in 0..1.
    let cb = straight_rgb(b);
    let blended = blend(cb, blend_src, mode);
    let rgb = a_s * (1.0 - a_b) * s + blend_alpha * a_b * blended + b.rgb * (1.0 - blend_alpha);
    return vec4<f32>(rgb, a_s + a_b * (1.0 - a_s));
}

@fragment
fn fs_blend(in: VsOut) -> @location(0) vec4<f32> {
    let s = layer_texel(in.pos);
    let b = textureLoad(backdrop_tex, vec2<i32>(floor(in.pos.xy)), 0);
    let cell = vec2<i32>(floor(in.pos.xy)) + draw.canvas_origin;
    return blend_pixel(s.rgb, s.a * draw.opacity, draw.fill, b, draw.mode, cell);
}
