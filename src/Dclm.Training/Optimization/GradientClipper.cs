namespace Dclm.Training.Optimization;

/// <summary>Global-norm gradient clipping over every trainable tensor: g ← g · min(1, c/‖g‖₂).</summary>
public static class GradientClipper
{
    /// <summary>Returns ‖g‖₂ before clipping, and scales the gradients so the norm is at most <paramref name="maxNorm"/> (≤ 0 = no clipping).</summary>
    public static double Clip(IEnumerable<ParameterTensor> tensors, double maxNorm)
    {
        var trainable = tensors.Where(t => t.Trainable).ToArray();
        // Fixed 4096-element partial sums added in tensor order: the same bits on any thread count.
        const int Block = 4096;
        double total = 0;
        foreach (var tensor in trainable)
        {
            var gradient = tensor.Gradient!;
            for (int start = 0; start < gradient.Length; start += Block)
            {
                double partial = 0;
                foreach (float g in gradient.AsSpan(start, Math.Min(Block, gradient.Length - start))) partial += (double)g * g;
                total += partial;
            }
        }
        double norm = Math.Sqrt(total);
        if (maxNorm > 0 && norm > maxNorm)
            foreach (var tensor in trainable)
                System.Numerics.Tensors.TensorPrimitives.Multiply(tensor.Gradient!, (float)(maxNorm / norm), tensor.Gradient!);
        return norm;
    }
}
