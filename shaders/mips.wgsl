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
    let size = vec2<i32>(textureDimensions(source));
    let level_size = max(size / 2, vec2<i32>(1));
    let p = vec2<i32>(floor(pos.xy));
    let start = p * 2;
    // The last texel of a row or column also takes in the texel an odd side leaves over, so
    // no row or column of the layer is lost at the smaller levels.
    var end = min(start + vec2<i32>(2), size);
    if p.x == level_size.x - 1 {
        end.x = size.x;
    }
    if p.y == level_size.y - 1 {
        end.y = size.y;
    }
    var sum = vec4<f32>(0.0);
    for (var y = start.y; y < end.y; y++) {
        for (var x = start.x; x < end.x; x++) {
            let s = textureLoad(source, vec2<i32>(x, y), 0);
            sum += vec4<f32>(s.rgb * s.a, s.a);
        }
    }
    let count = end - start;
    let p_avg = sum / f32(count.x * count.y);
    if p_avg.a <= 0.0 {
        return vec4<f32>(0.0);
    }
    return vec4<f32>(clamp(p_avg.rgb / p_avg.a, vec3<f32>(0.0), vec3<f32>(1.0)), p_avg.a);
}
