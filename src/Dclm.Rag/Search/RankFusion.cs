namespace Dclm.Rag.Search;

/// <summary>Reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009).</summary>
public static class RankFusion
{
    /// <summary>The paper's constant: it damps the weight of the very first ranks.</summary>
    public const int DefaultK = 60;

    /// <summary>
    /// Fuses rankings (ids best first): score(d) = Σ over rankings holding d of 1 / (k + rank(d)), rank from 1;
    /// returns the best <paramref name="count"/> ids, best first, ties broken by the lower id.
    /// </summary>
    public static IReadOnlyList<(int Id, float Score)> Fuse(IReadOnlyList<IReadOnlyList<int>> rankings, int count, int k = DefaultK)
    {
        var scores = new Dictionary<int, double>();
        foreach (var ranking in rankings)
            for (int rank = 0; rank < ranking.Count; rank++)
                scores[ranking[rank]] = scores.GetValueOrDefault(ranking[rank]) + 1.0 / (k + rank + 1);
        return scores.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Take(count).Select(p => (p.Key, (float)p.Value)).ToList();
    }
}
