// One mip level of a layer texture from the level above it (2×2 box filter).
//
// Layers are stored with straight alpha, and averaging straight colours lets the colour of
// transparent texels (often black) bleed into their neighbours: a soft edge would darken
// when zoomed out. So the four texels are premultiplied, averaged, and the average is turned
// back into straight alpha, the format every level of a layer texture keeps.

@group(0) @binding(0) var source: texture_2d<f32>;

@vertex
fn vs_fullscreen(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    // One triangle that covers the whole target.
    let uv = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
    return vec4<f32>(uv * vec2<f32>(2.0, -2.0) + vec2<f32>(-1.0, 1.0), 0.0, 1.0);
}

@fragment
fn fs_downsample(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let last = vec2<i32>(textureDimensions(source)) - vec2<i32>(1);
    let base = vec2<i32>(floor(pos.xy)) * 2;
    var sum = vec4<f32>(0.0);
    for (var dy = 0; dy < 2; dy++) {
        for (var dx = 0; dx < 2; dx++) {
            // An odd side repeats its last texel instead of reading past the edge.
            let s = textureLoad(source, min(base + vec2<i32>(dx, dy), last), 0);
            sum += vec4<f32>(s.rgb * s.a, s.a);
        }
    }
    let p = sum * 0.25;
    if p.a <= 0.0 {
        return vec4<f32>(0.0);
    }
    return vec4<f32>(clamp(p.rgb / p.a, vec3<f32>(0.0), vec3<f32>(1.0)), p.a);
}
