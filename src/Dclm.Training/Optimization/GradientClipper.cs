namespace Dclm.Training.Optimization;

/// <summary>Global-norm gradient clipping: g ← g · min(1, c/‖g‖₂).</summary>
public static class GradientClipper
{
    /// <summary>Returns ‖g‖₂ before clipping, and scales <paramref name="gradients"/> so the norm is at most <paramref name="maxNorm"/> (≤ 0 = no clipping).</summary>
    public static double Clip(float[] gradients, double maxNorm)
    {
        // Fixed 4096-element partial sums added in order: the same bits on any thread count.
        const int Block = 4096;
        double total = 0;
        for (int start = 0; start < gradients.Length; start += Block)
        {
            var span = gradients.AsSpan(start, Math.Min(Block, gradients.Length - start));
            double partial = 0;
            foreach (float g in span) partial += (double)g * g;
            total += partial;
        }
        double norm = Math.Sqrt(total);
        if (maxNorm > 0 && norm > maxNorm)
            System.Numerics.Tensors.TensorPrimitives.Multiply(gradients, (float)(maxNorm / norm), gradients);
        return norm;
    }
}
