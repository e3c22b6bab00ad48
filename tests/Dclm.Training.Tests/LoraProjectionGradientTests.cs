using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Tensors.Quantization;
using Dclm.Training.FineTuning;
using Dclm.Training.Graph;
using static Dclm.Training.Tests.GradientCheck;

namespace Dclm.Training.Tests;

/// <summary>
/// The adapter product y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ over a frozen base of every stored type: dA, dB and dx against
/// central finite differences of a float64 forward over the dequantized base, to 1e-4 relative.
/// </summary>
public unsafe class LoraProjectionGradientTests
{
    private static readonly ComputePool Pool = new(2);

    [Theory]
    [InlineData(GgmlType.F32, 0.0)]
    [InlineData(GgmlType.BF16, 0.0)]
    [InlineData(GgmlType.F16, 0.0)]
    [InlineData(GgmlType.Q8_0, 0.0)]
    [InlineData(GgmlType.Q4_0, 0.0)]
    [InlineData(GgmlType.Q4_K, 0.0)]
    [InlineData(GgmlType.Q6_K, 0.0)]
    [InlineData(GgmlType.Q4_0, 0.25)]
    public void AdapterGradientsMatchFiniteDifferencesOverEveryBaseType(GgmlType type, double dropout)
    {
        const int tokens = 5, rows = 37, columns = 256, rank = 3;
        // The stored base, and its dequantized values: what the reference multiplies by.
        long rowBytes = GgmlTypeInfo.ByteCount(type, columns);
        var stored = new byte[rowBytes * rows];
        Quantizer.Quantize(type, ToFloat(Random(rows * columns, 1, 0.2)), rows, columns, stored);
        var w = new double[rows * columns];
        var row = new float[columns];
        for (int r = 0; r < rows; r++)
        {
            Quantizer.DequantizeRow(type, stored.AsSpan((int)(r * rowBytes), (int)rowBytes), row);
            for (int c = 0; c < columns; c++) w[r * columns + c] = row[c];
        }
        // One adapter on a slice of the rows (as q sits in open_lm's fused in_proj) and one on all of them.
        var slice = new LoraAdapter("slice", columns, 10, 12, rank, alpha: 6, dropout);
        var whole = new LoraAdapter("whole", columns, 0, rows, rank, alpha: 3, dropout);
        var adapters = new[] { slice, whole };
        var parameters = new List<double[]>();
        foreach (var (adapter, seed) in adapters.Select((a, i) => (a, 10 * i)))
        {
            Random(adapter.A.Length, seed + 2, 0.5).Select(v => (float)v).ToArray().CopyTo(adapter.A.Values, 0);
            Random(adapter.B.Length, seed + 3, 0.5).Select(v => (float)v).ToArray().CopyTo(adapter.B.Values, 0);
        }
        var x = Random(tokens * columns, 4);
        var weights = Random(tokens * rows, 5);
        const ulong key = 0x5EED;
        var pass = new PassContext(Pool) { DropoutKey = key };
        // The dropout masks the adapters draw (all ones without dropout), read back by masking ones.
        var masks = adapters.Select(a => Mask(a, tokens, key)).ToArray();

        // loss = Σ weights ⊙ y, in float64 from the dequantized base, the adapters' values and their masks.
        double Loss(double[] xs, double[][] a, double[][] b)
        {
            double total = 0;
            for (int t = 0; t < tokens; t++)
            {
                var y = new double[rows];
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < columns; c++) y[r] += xs[t * columns + c] * w[r * columns + c];
                for (int k = 0; k < adapters.Length; k++)
                {
                    var adapter = adapters[k];
                    var u = new double[rank];
                    for (int j = 0; j < rank; j++)
                        for (int c = 0; c < columns; c++) u[j] += xs[t * columns + c] * masks[k][t * columns + c] * a[k][j * columns + c];
                    for (int i = 0; i < adapter.Rows; i++)
                        for (int j = 0; j < rank; j++) y[adapter.RowStart + i] += adapter.Alpha / rank * u[j] * b[k][i * rank + j];
                }
                for (int r = 0; r < rows; r++) total += weights[t * rows + r] * y[r];
            }
            return total;
        }
        var As = adapters.Select(a => a.A.Values.Select(v => (double)v).ToArray()).ToArray();
        var Bs = adapters.Select(a => a.B.Values.Select(v => (double)v).ToArray()).ToArray();

        fixed (byte* p = stored)
        {
            var projection = new FrozenProjection(new WeightMatrix(p, type, rows, columns), adapters);
            var y = new float[tokens * rows];
            projection.Forward(ToFloat(x), tokens, y, pass);
            Xunit.Assert.Equal(Loss(x, As, Bs), Dot(y.Select(v => (double)v).ToArray(), weights), 3);
            var dx = new float[tokens * columns];
            projection.Backward(ToFloat(weights), ToFloat(x), tokens, dx, false, pass);
            Assert(x, xs => Loss(xs, As, Bs), dx, $"{type} dx");
        }
        for (int k = 0; k < adapters.Length; k++)
        {
            int index = k;
            Assert(As[k], a => Loss(x, As.Select((v, i) => i == index ? a : v).ToArray(), Bs), adapters[k].A.Gradient!, $"{type} {adapters[k].Module} dA");
            Assert(Bs[k], b => Loss(x, As, Bs.Select((v, i) => i == index ? b : v).ToArray()), adapters[k].B.Gradient!, $"{type} {adapters[k].Module} dB");
        }
    }

    private static double[] Mask(LoraAdapter adapter, int tokens, ulong key)
    {
        var ones = Enumerable.Repeat(1f, tokens * adapter.InputWidth).ToArray();
        var mask = new float[ones.Length];
        adapter.DropoutMask(ones, tokens, key, mask);
        return mask.Select(v => (double)v).ToArray();
    }
}
