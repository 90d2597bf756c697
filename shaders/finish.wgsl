// Converts the premultiplied float canvas to straight-alpha RGBA8 for export and readback,
// the storage format of files. Fully transparent pixels become (0, 0, 0, 0), as in the CPU
// reference compositor.

@group(0) @binding(0) var canvas_tex: texture_2d<f32>;

@vertex
fn vs_fullscreen(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    // One triangle that covers the whole target.
    let uv = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
    return vec4<f32>(uv * vec2<f32>(2.0, -2.0) + vec2<f32>(-1.0, 1.0), 0.0, 1.0);
}

@fragment
fn fs_straight(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let p = textureLoad(canvas_tex, vec2<i32>(floor(pos.xy)), 0);
    let a = clamp(p.a, 0.0, 1.0);
    if a <= 0.0 {
        return vec4<f32>(0.0);
    }
    return vec4<f32>(clamp(p.rgb / a, vec3<f32>(0.0), vec3<f32>(1.0)), a);
}
