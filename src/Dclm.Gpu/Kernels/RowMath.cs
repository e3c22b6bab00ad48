using ILGPU;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// The arithmetic the element kernels and their fused forms share, so a fused kernel runs the very operations of the
/// kernels it replaces in the same order (and gives the same bits). Internal, so the kernel reflection skips them.
/// Products that feed a sum are <see cref="DeviceNumbers.Multiply"/>, so ptxas cannot fuse them (the CPU engine's RoPE
/// does not fuse either; a fused x² in a norm's sum would move its Q8_0 levels).
/// </summary>
internal static class RowMath
{
    /// <summary>
    /// x[start .. start + 32) quantized to ggml Q8_0 as the CPU engine quantizes activations (quantize_row_q8_0_ref):
    /// d = max|x|/127, q = roundf(x/d); levels[8·block ..] get the 32 q packed four to an int (q_(4k+i) in byte i of
    /// int k) and scales[block] f16(d) as a float.
    /// </summary>
    internal static void QuantizeBlock(ArrayView<float> x, long start, ArrayView<int> levels, ArrayView<float> scales, long block)
    {
        float max = 0;
        for (int j = 0; j < 32; j++)
        {
            float v = x[start + j];
            float magnitude = v < 0 ? -v : v;
            max = magnitude > max ? magnitude : max;
        }
        float d = max / 127;
        float inverse = d != 0 ? 1.0f / d : 0.0f;
        scales[block] = DeviceNumbers.RoundThroughHalf(d);
        for (int k = 0; k < 8; k++)
        {
            int packed = 0;
            for (int i = 0; i < 4; i++) packed |= ((int)DeviceNumbers.RoundHalfAway(DeviceNumbers.Multiply(x[start + 4 * k + i], inverse)) & 0xFF) << (8 * i);
            levels[block * 8 + k] = packed;
        }
    }

    /// <summary>
    /// One segment of <paramref name="width"/> values normalised by the calling group: LayerNorm y = (x − mean)/sqrt(var +
    /// eps)·gain with two passes, RMSNorm y = x/sqrt(mean(x²) + eps)·gain. Each thread writes the values it read, so y may
    /// be x; other threads' values are visible only after a barrier.
    /// </summary>
    internal static void NormalizeSegment(ArrayView<float> partial, ArrayView<float> x, long xs, ArrayView<float> y, long ys, int width,
        ArrayView<float> gain, bool layerNorm, float epsilon, int lane, int threads)
    {
        float mean = 0;
        if (layerNorm)
        {
            float s = 0;
            for (int j = lane; j < width; j += threads) s += x[xs + j];
            mean = GroupSum(partial, s, lane) / width;
        }
        float squares = 0;
        for (int j = lane; j < width; j += threads)
        {
            float v = x[xs + j] - mean;
            squares += DeviceNumbers.Multiply(v, v);
        }
        float variance = GroupSum(partial, squares, lane) / width;
        float inverse = 1.0f / MathF.Sqrt(variance + epsilon);
        for (int j = lane; j < width; j += threads) y[ys + j] = (x[xs + j] - mean) * inverse * gain[j];
    }

    /// <summary>The group's sum of <paramref name="value"/> by a fixed tree in shared memory, in every thread.</summary>
    internal static float GroupSum(ArrayView<float> partial, float value, int lane)
    {
        partial[lane] = value;
        Group.Barrier();
        for (int stride = Group.DimX / 2; stride > 0; stride /= 2)
        {
            if (lane < stride) partial[lane] += partial[lane + stride];
            Group.Barrier();
        }
        float total = partial[0];
        Group.Barrier();
        return total;
    }

    /// <summary>The pair (a, b) at <paramref name="first"/>, <paramref name="second"/> rotated by the angle with cosine c and sine s.</summary>
    internal static void Rotate(ArrayView<float> values, long first, long second, float c, float s)
    {
        float a = values[first], b = values[second];
        values[first] = DeviceNumbers.Multiply(a, c) - DeviceNumbers.Multiply(b, s);
        values[second] = DeviceNumbers.Multiply(a, s) + DeviceNumbers.Multiply(b, c);
    }

    /// <summary>silu(g)·u = g/(1 + e^−g)·u.</summary>
    internal static float SwiGlu(float g, float u) => g / (1 + MathF.Exp(-g)) * u;
}
