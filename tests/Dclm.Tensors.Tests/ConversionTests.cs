using System.Runtime.Intrinsics;
using Dclm.Tensors.Numerics;

namespace Dclm.Tensors.Tests;

public unsafe class ConversionTests
{
    private static float[] AwkwardFloats()
    {
        var random = new Random(7);
        var values = new List<float> { 0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 65504f, 65520f, 65519.99f, -65536f,
            6.1035156e-05f, 5.9604645e-08f, 2.9802322e-08f, 2.9802326e-08f, 1e-10f, float.Epsilon, float.MaxValue, -float.MaxValue,
            BitConverter.Int32BitsToSingle(0x7F800001), BitConverter.Int32BitsToSingle(unchecked((int)0xFFC00001)), 1.00048828125f, 1.000732421875f };
        for (int i = 0; i < 20000; i++)
        {
            values.Add(BitConverter.Int32BitsToSingle(random.Next()) * (random.Next(2) == 0 ? 1 : -1));
            values.Add((float)(random.NextDouble() - 0.5) * MathF.Pow(2, random.Next(-30, 20)));
        }
        // Exact ties between neighbouring halves and bfloats.
        for (int i = 0; i < 2000; i++)
        {
            values.Add(BitConverter.Int32BitsToSingle((random.Next(0x3000, 0x4700) << 16) | 0x8000));
            values.Add(BitConverter.Int32BitsToSingle((random.Next(0x33000, 0x47000) << 13) | 0x1000));
        }
        return values.ToArray();
    }

    [Fact]
    public void ExponentRebaseConstantIsExactlyTwoToThe112() =>
        Assert.Equal(0x77800000, BitConverter.SingleToInt32Bits(HalfConversion.TwoPow112));

    [Fact]
    public void FastHalfToFloatIsExactForEveryHalf()
    {
        for (int i = 0; i < 65536; i++)
        {
            float expected = HalfConversion.ToSingle((ushort)i), actual = HalfConversion.ToSingleFast((ushort)i);
            if (float.IsNaN(expected)) Assert.True(float.IsNaN(actual));
            else Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(actual));
        }
    }

    [Fact]
    public void FloatToHalfMatchesGgml()
    {
        float[] source = AwkwardFloats();
        var ours = new ushort[source.Length];
        var theirs = new ushort[source.Length];
        HalfConversion.FromSingle(source, ours);
        fixed (float* x = source)
        fixed (ushort* y = theirs)
            GgmlNative.Fp32ToFp16(x, y, source.Length);
        for (int i = 0; i < source.Length; i++)
        {
            // NaN payloads may differ; only NaN-ness must match.
            if (float.IsNaN(source[i])) Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(ours[i])));
            else Assert.True(ours[i] == theirs[i], $"{source[i]:R}: ours {ours[i]:X4}, ggml {theirs[i]:X4}");
        }
    }

    [Fact]
    public void HalfToFloatIsExactForEveryHalf()
    {
        var all = new ushort[65536];
        for (int i = 0; i < all.Length; i++) all[i] = (ushort)i;
        var bulk = new float[all.Length];
        var theirs = new float[all.Length];
        HalfConversion.ToSingle(all, bulk);
        fixed (ushort* x = all)
        fixed (float* y = theirs)
            GgmlNative.Fp16ToFp32(x, y, all.Length);
        for (int i = 0; i < all.Length; i++)
        {
            float scalar = HalfConversion.ToSingle((ushort)i);
            if (float.IsNaN(theirs[i]))
            {
                Assert.True(float.IsNaN(scalar) && float.IsNaN(bulk[i]));
                Assert.Equal(BitConverter.SingleToInt32Bits(scalar), BitConverter.SingleToInt32Bits(bulk[i]));
            }
            else
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(theirs[i]), BitConverter.SingleToInt32Bits(scalar));
                Assert.Equal(BitConverter.SingleToInt32Bits(theirs[i]), BitConverter.SingleToInt32Bits(bulk[i]));
            }
        }
    }

    [Fact]
    public void BulkFloatToHalfEqualsScalarOnAwkwardValues()
    {
        float[] source = AwkwardFloats();
        var bulk = new ushort[source.Length];
        HalfConversion.FromSingle(source, bulk);
        for (int i = 0; i < source.Length; i++)
        {
            ushort scalar = HalfConversion.FromSingle(source[i]);
            if (float.IsNaN(source[i])) Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(bulk[i])));
            else Assert.True(scalar == bulk[i], $"{source[i]:R}: bulk {bulk[i]:X4}, scalar {scalar:X4}");
        }
    }

    [Fact]
    public void VectorHalfWideningIsExactForEveryHalfAtBothWidths()
    {
        var lanes8 = new float[8];
        var lanes16 = new float[16];
        for (int start = 0; start < 65536; start += 16)
        {
            var halves = System.Runtime.Intrinsics.Vector256.Create(Enumerable.Range(start, 16).Select(i => (ushort)i).ToArray());
            if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) HalfConversion.Widen16(halves).CopyTo(lanes16);
            if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                HalfConversion.Widen8(halves.GetLower()).CopyTo(lanes16.AsSpan(0, 8));
                HalfConversion.Widen8(halves.GetUpper()).CopyTo(lanes8);
                lanes8.CopyTo(lanes16.AsSpan(8));
            }
            for (int i = 0; i < 16; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits(HalfConversion.ToSingle((ushort)(start + i))), BitConverter.SingleToInt32Bits(lanes16[i]));
        }
    }

    [Fact]
    public void FloatToBFloat16MatchesGgml()
    {
        float[] source = AwkwardFloats();
        var bulk = new ushort[source.Length];
        var theirs = new ushort[source.Length];
        BFloat16Conversion.FromSingle(source, bulk);
        fixed (float* x = source)
        fixed (ushort* y = theirs)
            GgmlNative.Fp32ToBf16(x, y, source.Length);
        for (int i = 0; i < source.Length; i++)
        {
            Assert.True(theirs[i] == bulk[i], $"{source[i]:R}: bulk {bulk[i]:X4}, ggml {theirs[i]:X4}");
            Assert.Equal(theirs[i], BFloat16Conversion.FromSingle(source[i]));
        }
    }

    [Fact]
    public void BulkConversionsEqualScalarAtEveryLength()
    {
        var random = new Random(3);
        for (int length = 0; length <= 257; length++)
        {
            var floats = new float[length];
            for (int i = 0; i < length; i++) floats[i] = (random.NextSingle() - 0.5f) * 100;
            var halves = new ushort[length];
            var bfloats = new ushort[length];
            HalfConversion.FromSingle(floats, halves);
            BFloat16Conversion.FromSingle(floats, bfloats);
            var back = new float[length];
            var backB = new float[length];
            HalfConversion.ToSingle(halves, back);
            BFloat16Conversion.ToSingle(bfloats, backB);
            for (int i = 0; i < length; i++)
            {
                Assert.Equal(HalfConversion.FromSingle(floats[i]), halves[i]);
                Assert.Equal(BFloat16Conversion.FromSingle(floats[i]), bfloats[i]);
                Assert.Equal(HalfConversion.ToSingle(halves[i]), back[i]);
                Assert.Equal(BFloat16Conversion.ToSingle(bfloats[i]), backB[i]);
            }
        }
    }

    [Fact]
    public void SpanConversionsRejectADestinationShorterThanTheSource()
    {
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => HalfConversion.ToSingle(new ushort[3], new float[2])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => HalfConversion.FromSingle(new float[3], new ushort[2])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => BFloat16Conversion.ToSingle(new ushort[3], new float[2])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => BFloat16Conversion.FromSingle(new float[3], new ushort[2])).ParamName);
        var longer = new float[4];
        HalfConversion.ToSingle(new ushort[] { 0x3C00, 0xC000 }, longer);
        Assert.Equal(new[] { 1f, -2f, 0f, 0f }, longer);
    }
}
