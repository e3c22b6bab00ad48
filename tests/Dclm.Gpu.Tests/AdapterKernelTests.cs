using Dclm.Gpu.Conformance;
using Dclm.Models.Adapters;
using ILGPU.Runtime;

namespace Dclm.Gpu.Tests;

/// <summary>
/// The adapter kernel (<see cref="Kernels.AdapterKernels.AddLowRank"/>, through <see cref="DeviceAdapters"/>) against its
/// scalar reference, the CPU engine's <see cref="LowRankMath"/>, bit for bit: every product of a layer, rows on two
/// adapters and on the base in one launch, ranks 3, 5 and 67 (two passes of 64), two updates of one part, open_lm-style
/// shared A, an output stride wider than the parts, and the residual form.
/// </summary>
public sealed class AdapterKernelTests(CpuAcceleratorFixture accelerator) : IClassFixture<CpuAcceleratorFixture>
{
    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama")]
    public void TheKernelAddsTheReferenceBitsToEachRowOfItsAdapter(string model)
    {
        var config = SyntheticDecoders.Config(model);
        var adapters = new[] { SyntheticAdapters.Wide(config, seed: 1), SyntheticAdapters.EveryTarget(config, seed: 2) };
        var a = accelerator.Device.Accelerator;
        using var device = new DeviceAdapters(a, config, new LaunchCounter());
        device.Hold(1, adapters[0]);
        device.Hold(2, adapters[1]);
        int[] adapterOf = [2, 0, 1, 2, 1];
        int tokens = adapterOf.Length, layer = config.Layers - 1;
        using var ids = a.Allocate1D(adapterOf);
        var random = new Random(3);
        foreach (var product in Enum.GetValues<LayerProduct>())
        {
            var targets = LoraTargets.All.Where(t => LoraTargets.Placement(t).Product == product).OrderBy(t => LoraTargets.Placement(t).Part).ToArray();
            int inputs = LoraTargets.Shape(targets[0], config).Columns;
            int[] widths = targets.Select(t => LoraTargets.Shape(t, config).Rows).ToArray();
            int stride = widths.Sum() + 5;
            float[] x = Values(random, tokens * inputs), y = Values(random, tokens * stride), residual = Values(random, tokens * stride);
            var expected = (float[])y.Clone();
            for (int r = 0; r < tokens; r++)
            {
                if (adapterOf[r] == 0) continue;
                for (int part = 0, offset = 0; part < targets.Length; offset += widths[part], part++)
                    foreach (var u in adapters[adapterOf[r] - 1].For(layer, targets[part]))
                        LowRankMath.AddUpdate(u.A, Transposed(u), u.Rank, u.Scale, x.AsSpan(r * inputs, inputs), new float[u.Rank],
                            expected.AsSpan(r * stride + offset, widths[part]));
            }
            bool intoResidual = product is LayerProduct.Output or LayerProduct.Down;
            // The residual form adds the product's columns (not the stride's padding) into the residual, every row.
            var expectedResidual = intoResidual ? residual.Select((v, i) => i % stride < widths.Sum() ? v + expected[i] : v).ToArray() : residual;
            using var xOnDevice = a.Allocate1D(x);
            using var yOnDevice = a.Allocate1D(y);
            using var residualOnDevice = a.Allocate1D(residual);
            device.Add(layer, product, ids.View, tokens, xOnDevice.View, inputs, yOnDevice.View, stride, intoResidual ? residualOnDevice.View : default);
            a.Synchronize();
            AssertBits(expected, yOnDevice.GetAsArray1D(), $"{product} output");
            AssertBits(expectedResidual, residualOnDevice.GetAsArray1D(), $"{product} residual");
            Assert.Contains(Enumerable.Range(0, y.Length), i => expected[i] != y[i]);
        }
    }

    private static float[] Values(Random random, int count) => Enumerable.Range(0, count).Select(_ => 2 * random.NextSingle() - 1).ToArray();

    /// <summary>Bᵀ (rank, rows) of B (rows, rank).</summary>
    private static float[] Transposed(LoraUpdate u)
    {
        var t = new float[u.B.Length];
        for (int row = 0; row < u.Rows; row++)
            for (int k = 0; k < u.Rank; k++) t[k * u.Rows + row] = u.B[row * u.Rank + k];
        return t;
    }

    private static void AssertBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{what} {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
