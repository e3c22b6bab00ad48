using Dclm.Gpu.Kernels;

namespace Dclm.Gpu.Tests;

/// <summary>The device fma's fallback against .NET's MathF.FusedMultiplyAdd (the processor's fma instruction).</summary>
public sealed class FusedMultiplyAddTests
{
    [Fact]
    public void RoundToOddEmulationEqualsTheHardwareFma()
    {
        var random = new Random(20261204);
        float Any() => random.Next(4) switch
        {
            0 => (float)(random.NextDouble() * 2 - 1),
            1 => random.Next(-300000, 300000),
            2 => BitConverter.Int32BitsToSingle(random.Next(0x00800000, 0x7F000000)) * (random.Next(2) == 0 ? 1 : -1) * 1e-20f,
            _ => (float)((random.NextDouble() * 2 - 1) * Math.Pow(2, random.Next(-30, 30))),
        };
        int inexactTies = 0;
        for (int i = 0; i < 2_000_000; i++)
        {
            float a = Any(), b = Any(), c = Any();
            // Cases where the product nearly cancels c are where double rounding would go wrong; make many.
            if (i % 3 == 0) c = -(float)((double)a * b);
            float expected = MathF.FusedMultiplyAdd(a, b, c), actual = DeviceNumbers.FusedMultiplyAddByRoundToOdd(a, b, c);
            if ((float)((double)a * b + c) != expected) inexactTies++;
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual) || (expected == 0 && actual == 0),
                $"fma({a:R}, {b:R}, {c:R}) = {expected:R}, emulation {actual:R}");
        }
        Assert.True(inexactTies > 0, "no input where plain double arithmetic double-rounds: the cases do not exercise round-to-odd");
    }
}
