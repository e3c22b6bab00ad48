namespace Dclm.Data.FastText;

/// <summary>
/// fastText's product quantizer: a row of <see cref="Dimension"/> values is cut into <see cref="Subquantizers"/>
/// pieces of <see cref="SubDimension"/> values (the last of <see cref="LastSubDimension"/>), each stored as one byte
/// naming one of 256 centroids of its piece.
/// </summary>
internal sealed class ProductQuantizer
{
    public const int CentroidsPerPiece = 256;
    private readonly float[] _centroids;   // (dim × 256), piece m at [m·256·dsub ...), centroid i of it at +i·d_m

    private ProductQuantizer(int dimension, int subquantizers, int subDimension, int lastSubDimension, float[] centroids)
    {
        Dimension = dimension;
        Subquantizers = subquantizers;
        SubDimension = subDimension;
        LastSubDimension = lastSubDimension;
        _centroids = centroids;
    }

    public int Dimension { get; }
    public int Subquantizers { get; }
    public int SubDimension { get; }
    public int LastSubDimension { get; }

    /// <summary>The centroid of piece <paramref name="piece"/> with code <paramref name="code"/>.</summary>
    public ReadOnlySpan<float> Centroid(int piece, byte code)
    {
        if (piece == Subquantizers - 1)
            return _centroids.AsSpan(piece * CentroidsPerPiece * SubDimension + code * LastSubDimension, LastSubDimension);
        return _centroids.AsSpan((piece * CentroidsPerPiece + code) * SubDimension, SubDimension);
    }

    /// <summary>x += scale · decode(codes).</summary>
    public void AddCode(Span<float> x, ReadOnlySpan<byte> codes, float scale)
    {
        if (SubDimension == 2 && LastSubDimension == 2 && x.Length >= 2 * Subquantizers)
        {
            // lid.176's layout: pieces of two values, centroid i of piece m at [(m·256 + i)·2].
            var centroids = _centroids.AsSpan();
            for (int m = 0; m < Subquantizers; m++)
            {
                int at = (m * CentroidsPerPiece + codes[m]) * 2;
                x[2 * m] += scale * centroids[at];
                x[2 * m + 1] += scale * centroids[at + 1];
            }
            return;
        }
        for (int m = 0; m < Subquantizers; m++)
        {
            var centroid = Centroid(m, codes[m]);
            var target = x.Slice(m * SubDimension, centroid.Length);
            for (int n = 0; n < centroid.Length; n++) target[n] += scale * centroid[n];
        }
    }

    /// <summary>scale · (x · decode(codes)).</summary>
    public float MultiplyCode(ReadOnlySpan<float> x, ReadOnlySpan<byte> codes, float scale)
    {
        float sum = 0;
        for (int m = 0; m < Subquantizers; m++)
        {
            var centroid = Centroid(m, codes[m]);
            var source = x.Slice(m * SubDimension, centroid.Length);
            for (int n = 0; n < centroid.Length; n++) sum += source[n] * centroid[n];
        }
        return sum * scale;
    }

    public static ProductQuantizer Read(FastTextReader reader)
    {
        int dimension = reader.Int32(), subquantizers = reader.Int32(), subDimension = reader.Int32(), last = reader.Int32();
        reader.Require(dimension >= 1 && subDimension >= 1 && subquantizers == (dimension + subDimension - 1) / subDimension
                       && last == (dimension % subDimension == 0 ? subDimension : dimension % subDimension),
            $"product quantizer dim={dimension} nsubq={subquantizers} dsub={subDimension} lastdsub={last} is inconsistent");
        var centroids = reader.Floats((long)dimension * CentroidsPerPiece, "product quantizer centroids");
        return new ProductQuantizer(dimension, subquantizers, subDimension, last, centroids);
    }

    public void Write(BinaryWriter writer)
    {
        writer.Write(Dimension);
        writer.Write(Subquantizers);
        writer.Write(SubDimension);
        writer.Write(LastSubDimension);
        foreach (var value in _centroids) writer.Write(value);
    }
}
