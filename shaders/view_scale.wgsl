// A zoom-gesture frame (src/gpu/view_scale.rs): the last exact view composite, resampled to
// the new zoom and origin instead of compositing every layer again. Each target pixel maps
// to a position in the old composite (the same document point under both views) and takes
// its premultiplied bilinear interpolation: premultiplied, so transparent texels add no
// colour. Texels outside the old composite's drawn rectangle count as transparent, which
// display.wgsl shows as the checkerboard until the gesture settles and the view is
// composited exactly again. textureLoad (not a sampler) because float32 targets are not
// filterable on every adapter.

struct Scale {
    target_size: vec2<f32>,
    // Old target pixels per new target pixel (old zoom / new zoom).
    ratio: f32,
    _pad0: f32,
    // Old target position of new target position (0, 0): old origin − new origin · ratio.
    shift: vec2<f32>,
    _pad1: vec2<f32>,
    // Old target pixels that hold the composite: left, top, right, bottom (exclusive).
    source: vec4<i32>,
};

@group(0) @binding(0) var<uniform> scale: Scale;
@group(0) @binding(1) var old_tex: texture_2d<f32>;

@vertex
fn vs_scale(@builtin(vertex_index) i: u32) -> VsOut {
    return rect_vertex(i, vec2<f32>(0.0), scale.target_size, scale.target_size);
}

// The old texel at `p`, transparent outside the drawn rectangle.
fn old_texel(p: vec2<i32>) -> vec4<f32> {
    if any(p < scale.source.xy) || any(p >= scale.source.zw) {
        return vec4<f32>(0.0);
    }
    return textureLoad(old_tex, p, 0);
}

@fragment
fn fs_scale(in: VsOut) -> @location(0) vec4<f32> {
    let centre = floor(in.viewport_px) + vec2<f32>(0.5);
    // Texel centres sit at half pixels, so the four neighbours start at floor(q − ½).
    let q = centre * scale.ratio + scale.shift - vec2<f32>(0.5);
    let base = floor(q);
    let t = q - base;
    let p = vec2<i32>(base);
    let top = mix(old_texel(p), old_texel(p + vec2<i32>(1, 0)), t.x);
    let bottom = mix(old_texel(p + vec2<i32>(0, 1)), old_texel(p + vec2<i32>(1, 1)), t.x);
    return mix(top, bottom, t.y);
}
