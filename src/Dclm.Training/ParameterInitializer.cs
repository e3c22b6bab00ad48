namespace Dclm.Training;

/// <summary>
/// open_lm's initialisation: norm gains 1; every matrix a normal truncated at ±3σ, with σ = 1/√fan_in,
/// and the two projections that write into the residual stream (out_proj and w3) scaled down further
/// by 1/√(2·(layer+1)). Deterministic for a seed.
/// </summary>
public static class ParameterInitializer
{
    /// <summary>Fills every tensor of <paramref name="parameters"/> from <paramref name="seed"/>.</summary>
    public static void Initialize(ModelParameters parameters, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        foreach (var tensor in parameters.Tensors)
        {
            var span = tensor.Values.AsSpan();
            if (tensor.IsNorm) { span.Fill(1f); continue; }
            double std = 1.0 / Math.Sqrt(tensor.Columns);
            int layer = LayerIndex(tensor.Name);
            if (layer >= 0 && (tensor.Name.EndsWith("out_proj.weight", StringComparison.Ordinal) || tensor.Name.EndsWith("w3.weight", StringComparison.Ordinal)))
                std /= Math.Sqrt(2.0 * (layer + 1));
            for (int i = 0; i < span.Length; i++) span[i] = (float)(std * random.NextTruncatedNormal(3.0));
        }
    }

    private static int LayerIndex(string name)
    {
        const string prefix = "model.layers.";
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return -1;
        int end = name.IndexOf('.', prefix.Length);
        return int.Parse(name.AsSpan(prefix.Length, end - prefix.Length), System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>SplitMix64: a small, fast generator whose whole state is one integer, so it is trivially saved and restored.</summary>
public sealed class DeterministicRandom(ulong seed)
{
    /// <summary>The full state; assigning it restores the sequence.</summary>
    public ulong State { get; set; } = seed;

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, <paramref name="exclusiveMax"/>).</summary>
    public int NextInt(int exclusiveMax) => (int)(NextDouble() * exclusiveMax);

    /// <summary>Standard normal (Box–Muller) resampled until it lies within ±<paramref name="limit"/>.</summary>
    public double NextTruncatedNormal(double limit)
    {
        while (true)
        {
            double u1 = 1.0 - NextDouble(), u2 = NextDouble();
            double z = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            if (Math.Abs(z) <= limit) return z;
        }
    }
}
