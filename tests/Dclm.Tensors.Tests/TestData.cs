namespace Dclm.Tensors.Tests;

/// <summary>Deterministic test inputs shaped like real weights and activations, with awkward cases mixed in.</summary>
internal static class TestData
{
    /// <summary>Gaussian-ish values with occasional outliers, exact zeros, all-zero and constant blocks.</summary>
    public static float[] Weights(int count, int seed, float scale = 0.05f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u = random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5;
            values[i] = (float)(u * scale * 2);
            if (random.Next(97) == 0) values[i] *= 12;
            if (random.Next(151) == 0) values[i] = 0;
        }
        // A zero block, a constant block and a tiny-valued block when there is room for them.
        if (count >= 256 * 4)
        {
            Array.Clear(values, 256, 256);
            for (int i = 512; i < 544; i++) values[i] = 0.125f;
            for (int i = 768; i < 800; i++) values[i] *= 1e-6f;
        }
        return values;
    }
}
