using System.Numerics.Tensors;

namespace Dclm.Tensors.Ops;

/// <summary>Numerically stable softmax.</summary>
public static class Softmax
{
    /// <summary>values_i ← e^(values_i − max) / Σ_j e^(values_j − max), in place.</summary>
    public static void InPlace(Span<float> values)
    {
        if (values.IsEmpty) return;
        // Vector passes: attention runs this once per (token, head, layer) over its positions, and a
        // scalar exponential per position cost as much as the dot products.
        float max = VectorMath.Max(values);
        VectorMath.ExpShifted(values, max, values);
        float inverse = (float)(1.0 / DoubleSums.Sum(values));
        TensorPrimitives.Multiply(values, inverse, values);
    }
}
