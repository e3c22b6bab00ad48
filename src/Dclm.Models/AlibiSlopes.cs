namespace Dclm.Models;

/// <summary>ALiBi head slopes (Press et al., 2022).</summary>
public static class AlibiSlopes
{
    /// <summary>
    /// For n a power of two, slope_h = 2^(−8(h+1)/n). Otherwise the slopes of the nearest lower
    /// power of two m, followed by every other slope of 2m, as the paper's reference code does.
    /// </summary>
    public static float[] For(int heads)
    {
        if (heads <= 0) throw new ArgumentOutOfRangeException(nameof(heads));
        int m = 1;
        while (m * 2 <= heads) m *= 2;
        var slopes = new float[heads];
        for (int h = 0; h < m; h++) slopes[h] = (float)Math.Pow(2, -8.0 * (h + 1) / m);
        for (int h = m, k = 0; h < heads; h++, k += 2) slopes[h] = (float)Math.Pow(2, -8.0 * (k + 1) / (2 * m));
        return slopes;
    }
}
