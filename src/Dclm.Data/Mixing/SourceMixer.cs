using Dclm.Data.Dedup;
using Dclm.Data.Documents;

namespace Dclm.Data.Mixing;

/// <summary>
/// Mixing and balancing by source: a source with weight w contributes ⌊w⌋ copies of each document plus one more
/// with probability w − ⌊w⌋, so w = 0.25 keeps a quarter of it and w = 2 repeats it twice. The coin for each
/// document is a hash of its id and the seed, so the result does not depend on order, threads or shards.
/// </summary>
public sealed class SourceMixer(IReadOnlyDictionary<string, double> weights, double defaultWeight, int seed)
{
    /// <summary>Weight applied to <paramref name="source"/>.</summary>
    public double WeightOf(string source) => weights.TryGetValue(source, out var w) ? w : defaultWeight;

    /// <summary>The copies of <paramref name="document"/> to emit (possibly none); repeats get "#k" id suffixes.</summary>
    public IReadOnlyList<Document> Copies(Document document)
    {
        double weight = WeightOf(document.Source);
        int whole = (int)Math.Floor(weight);
        double coin = (StableHash.Combine((ulong)seed, StableHash.Of(document.Id)) >> 11) * (1.0 / (1UL << 53));
        int count = whole + (coin < weight - whole ? 1 : 0);
        var copies = new List<Document>(count);
        for (int k = 0; k < count; k++)
        {
            copies.Add(k == 0 ? document : new Document($"{document.Id}#{k}", document.Url, document.Source, document.Text)
            {
                LanguageScore = document.LanguageScore,
                QualityScore = document.QualityScore,
            });
        }
        return copies;
    }
}
