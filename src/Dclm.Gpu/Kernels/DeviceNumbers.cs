using ILGPU;
using ILGPU.IR.Intrinsics;

namespace Dclm.Gpu.Kernels;

/// <summary>Bit-exact number conversions that kernels share (IEEE f16 and bf16, ggml's rounding).</summary>
internal static class DeviceNumbers
{
    /// <summary>The f16 with bits <paramref name="h"/> as a float (exact: every f16 is a float).</summary>
    public static float HalfToSingle(int h)
    {
        int sign = (h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
        if (exponent == 0)
        {
            // Zero or subnormal: mantissa·2^-24, exact in float (Multiply: callers subtract the value, HalfTensorCoreKernels.Split).
            float value = Multiply(mantissa, 5.9604644775390625e-8f);
            return sign != 0 ? -value : value;
        }
        if (exponent == 31) return Interop.IntAsFloat((uint)(sign | 0x7F800000 | (mantissa << 13)));
        return Interop.IntAsFloat((uint)(sign | ((exponent + 112) << 23) | (mantissa << 13)));
    }

    /// <summary>The bf16 with bits <paramref name="b"/> as a float: the upper half of its bits.</summary>
    public static float BFloat16ToSingle(uint b) => Interop.IntAsFloat(b << 16);

    /// <summary>
    /// x rounded to the nearest f16 (ties to even) and back, as ggml stores a block scale: 13 mantissa bits dropped in
    /// the normal range, a multiple of 2^-24 below it. Magnitudes beyond f16's range do not occur for scales.
    /// </summary>
    public static float RoundThroughHalf(float x)
    {
        float magnitude = x < 0 ? -x : x;
        float rounded;
        if (magnitude < 6.103515625e-5f)
        {
            // Subnormal f16: adding 0.5 leaves a float whose last place is 2^-24, so the sum rounds x to a multiple of it.
            rounded = (magnitude + 0.5f) - 0.5f;
        }
        else
        {
            uint bits = Interop.FloatAsInt(magnitude);
            bits = (bits + 0x0FFFu + ((bits >> 13) & 1u)) & ~0x1FFFu;
            rounded = Interop.IntAsFloat(bits);
        }
        return x < 0 ? -rounded : rounded;
    }

    /// <summary>C's roundf: to the nearest integer, halves away from zero (|v| well inside int's range).</summary>
    public static float RoundHalfAway(float v)
    {
        float whole = (int)v;
        float rest = v - whole;
        if (rest >= 0.5f) return whole + 1;
        if (rest <= -0.5f) return whole - 1;
        return whole;
    }

    /// <summary>
    /// a·b + c rounded once (IEEE fma), as the CPU engine's kernels compute it: PTX's fma.rn.f32 on CUDA
    /// (<see cref="PtxIntrinsics"/>), and on the CPU accelerator <see cref="FusedMultiplyAddByRoundToOdd"/> (ILGPU lowers
    /// MathF.FusedMultiplyAdd to an external function the driver cannot link).
    /// </summary>
    [IntrinsicImplementation]
    public static float FusedMultiplyAdd(float a, float b, float c) => FusedMultiplyAddByRoundToOdd(a, b, c);

    /// <summary>
    /// a·b rounded to float, never fused into an add or subtract that uses it: PTX's mul.rn.f32 on CUDA
    /// (<see cref="PtxIntrinsics"/>), which the PTX ISA exempts from contraction, and plain a·b on the CPU accelerator,
    /// which .NET never contracts. A kernel writes a product that feeds a sum as <c>Multiply(a, b) + c</c> so the GPU rounds
    /// twice, as the CPU accelerator the tests run does; ILGPU emits a plain <c>a * b</c> as mul.f32 without a rounding
    /// modifier, which ptxas and the driver fuse with a following add.f32 into one fma (one rounding), a different float.
    /// </summary>
    [IntrinsicImplementation]
    public static float Multiply(float a, float b) => a * b;

    /// <summary>
    /// a − b rounded to float: PTX's sub.rn.f32 on CUDA, plain a − b elsewhere; the same value as a − b. Only for a
    /// subtraction ptxas schedules differently with and without contraction although it has no product to fuse (the f16
    /// split's residual, <see cref="HalfTensorCoreKernels.Split{TFormat}"/>): with the rounding modifier its cubin is the
    /// same either way, which is what PtxContractionTests compares.
    /// </summary>
    [IntrinsicImplementation]
    public static float Subtract(float a, float b) => a - b;

    /// <summary>
    /// fma(a, b, c) for finite floats from double arithmetic: a·b is exact in double (48 significant bits); s = a·b + c is
    /// rounded to odd (nearest, then the last bit forced to 1 toward the exact sum when inexact, the error found by
    /// TwoSum), and a sum rounded to odd with 53 ≥ 24 + 2 bits rounds to the nearest float correctly (Boldo and Melquiond,
    /// "Emulation of FMA and correctly rounded sums: proved algorithms using rounding to odd", 2008).
    /// </summary>
    public static float FusedMultiplyAddByRoundToOdd(float a, float b, float c)
    {
        double product = (double)a * b, addend = c;
        double sum = product + addend;
        double virtualAddend = sum - product;
        double error = (product - (sum - virtualAddend)) + (addend - virtualAddend);
        if (error != 0)
        {
            ulong bits = Interop.FloatAsInt(sum);
            if ((bits & 1) == 0) bits = (error > 0) == (sum > 0) ? bits + 1 : bits - 1;
            sum = Interop.IntAsFloat(bits);
        }
        return (float)sum;
    }

    /// <summary>
    /// c + Σ_i a_i·b_i over the four signed bytes a_i, b_i of <paramref name="a"/> and <paramref name="b"/> (byte i is bits
    /// 8i..8i+7), in 32-bit two's complement: PTX's dp4a.s32.s32 on CUDA (one instruction from sm_61,
    /// <see cref="PtxIntrinsics"/>), and on the CPU accelerator <see cref="ByteDotBySignExtension"/>, the PTX ISA's definition of it.
    /// </summary>
    [IntrinsicImplementation]
    public static int ByteDot(int a, int b, int c) => ByteDotBySignExtension(a, b, c);

    /// <summary>
    /// dp4a.s32.s32 as the PTX ISA defines it: d = c, then for i = 0..3, d += sext(byte_i(a))·sext(byte_i(b)), wrapping
    /// modulo 2^32 (each product fits in 16 bits; only c can carry the sum past int's range).
    /// </summary>
    public static int ByteDotBySignExtension(int a, int b, int c) => unchecked(c
        + (sbyte)a * (sbyte)b + (sbyte)(a >> 8) * (sbyte)(b >> 8) + (sbyte)(a >> 16) * (sbyte)(b >> 16) + (sbyte)(a >> 24) * (sbyte)(b >> 24));

    /// <summary>The sum of <paramref name="value"/> over the warp, in lane 0 (a fixed tree, so deterministic).</summary>
    public static float WarpSum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2) value += Warp.ShuffleDown(value, offset);
        return value;
    }

    /// <summary>The sum of <paramref name="value"/> over the whole warp, in every lane.</summary>
    public static float WarpAllSum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2) value += Warp.ShuffleXor(value, offset);
        return value;
    }

    /// <summary>The maximum of <paramref name="value"/> over the whole warp, in every lane.</summary>
    public static float WarpAllMax(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
        {
            float other = Warp.ShuffleXor(value, offset);
            value = other > value ? other : value;
        }
        return value;
    }
}
