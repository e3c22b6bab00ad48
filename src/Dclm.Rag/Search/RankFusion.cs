namespace Dclm.Rag.Search;

/// <summary>Reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009).</summary>
public static class RankFusion
{
    /// <summary>The paper's constant: it damps the weight of the very first ranks.</summary>
    public const int DefaultK = 60;

    /// <summary>
    /// Fuses rankings (ids best first): score(d) = Σ over rankings holding d of w · 1 / (k + rank(d)), rank
    /// from 1, w the ranking's weight (1 when <paramref name="weights"/> is null); returns the best
    /// <paramref name="count"/> ids, best first, ties broken by the better single rank, then the lower id.
    /// </summary>
    public static IReadOnlyList<(int Id, float Score)> Fuse(IReadOnlyList<IReadOnlyList<int>> rankings, int count, int k = DefaultK, IReadOnlyList<double>? weights = null)
    {
        var scores = new Dictionary<int, (double Score, int BestRank)>();
        for (int r = 0; r < rankings.Count; r++)
        {
            double weight = weights?[r] ?? 1;
            var ranking = rankings[r];
            for (int rank = 0; rank < ranking.Count; rank++)
            {
                var (score, best) = scores.GetValueOrDefault(ranking[rank], (0, int.MaxValue));
                scores[ranking[rank]] = (score + weight / (k + rank + 1), Math.Min(best, rank));
            }
        }
        return scores.OrderByDescending(p => p.Value.Score).ThenBy(p => p.Value.BestRank).ThenBy(p => p.Key)
            .Take(count).Select(p => (p.Key, (float)p.Value.Score)).ToList();
    }

    /// <summary>
    /// Convex combination of min-max normalised scores (Bruch, Gai and Ingber, 2023): each ranking's scores are
    /// mapped to [0, 1] over its own list (best = 1, worst listed = 0, absent = 0), and
    /// score(d) = α · lexical(d) + (1 − α) · dense(d). Unlike reciprocal rank it keeps how far ahead a
    /// ranking's best match is: a near-verbatim BM25 match stays on top, a flat BM25 list defers to the vectors.
    /// </summary>
    public static IReadOnlyList<(int Id, float Score)> Convex(IReadOnlyList<(int Id, float Score)> lexical, IReadOnlyList<(int Id, float Score)> dense, int count, double alpha = 0.5)
    {
        var scores = new Dictionary<int, double>();
        void Add(IReadOnlyList<(int Id, float Score)> ranking, double weight)
        {
            if (ranking.Count == 0) return;
            double max = ranking.Max(r => r.Score), min = ranking.Min(r => r.Score), span = max - min;
            foreach (var (id, score) in ranking)
                scores[id] = scores.GetValueOrDefault(id) + weight * (span > 0 ? (score - min) / span : 1);
        }
        Add(lexical, alpha);
        Add(dense, 1 - alpha);
        return scores.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Take(count).Select(p => (p.Key, (float)p.Value)).ToList();
    }

    /// <summary>
    /// Convex combination with theoretical min-max normalisation ("TM2C2", Bruch, Gai and Ingber, 2023) over
    /// candidates scored exactly by both rankings: each score is mapped by (s − m) / (M − m), m the scoring
    /// function's least possible value (0 for BM25, −1 for cosine similarity), M the best score among the
    /// candidates, and score(d) = α · lexical(d) + (1 − α) · dense(d). Normalising from the theoretical floor
    /// rather than the list's worst keeps each ranking's own spread: a BM25 match far ahead of the rest keeps
    /// its lead, and a dense list of near-equal cosines adds little, where min-max would stretch it over [0, 1].
    /// </summary>
    /// <param name="candidates">Each candidate with its BM25 score (0 when it holds no query term) and its cosine similarity.</param>
    /// <param name="count">How many to return.</param>
    /// <param name="alpha">Weight of the BM25 side.</param>
    public static IReadOnlyList<(int Id, float Score)> TheoreticalConvex(IReadOnlyList<(int Id, float Lexical, float Dense)> candidates, int count, double alpha = 0.5)
    {
        if (candidates.Count == 0) return [];
        const double lexicalFloor = 0, denseFloor = -1;
        double lexicalSpan = candidates.Max(c => c.Lexical) - lexicalFloor, denseSpan = candidates.Max(c => c.Dense) - denseFloor;
        return candidates
            .Select(c => (c.Id, Score: alpha * (lexicalSpan > 0 ? (c.Lexical - lexicalFloor) / lexicalSpan : 0)
                                       + (1 - alpha) * (denseSpan > 0 ? (c.Dense - denseFloor) / denseSpan : 0)))
            .OrderByDescending(c => c.Score).ThenBy(c => c.Id).Take(count).Select(c => (c.Id, (float)c.Score)).ToList();
    }

    /// <summary>
    /// Convex combination of standard scores over candidates scored exactly by both rankings (z-score
    /// normalisation, as in Montague and Aslam, 2001, and Qdrant's distribution-based fusion): each score becomes
    /// (s − μ) / σ over the candidates, and score(d) = α · lexical(d) + (1 − α) · dense(d).
    /// </summary>
    /// <param name="candidates">Each candidate with its BM25 score (0 when it holds no query term) and its cosine similarity.</param>
    /// <param name="count">How many to return.</param>
    /// <param name="alpha">Weight of the BM25 side.</param>
    public static IReadOnlyList<(int Id, float Score)> StandardScore(IReadOnlyList<(int Id, float Lexical, float Dense)> candidates, int count, double alpha = 0.5)
    {
        if (candidates.Count == 0) return [];
        static Func<double, double> Standardise(IEnumerable<double> scores)
        {
            var values = scores.ToList();
            double mean = values.Average(), deviation = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);
            return deviation > 0 ? v => (v - mean) / deviation : _ => 0;
        }
        var lexical = Standardise(candidates.Select(c => (double)c.Lexical));
        var dense = Standardise(candidates.Select(c => (double)c.Dense));
        return candidates.Select(c => (c.Id, Score: alpha * lexical(c.Lexical) + (1 - alpha) * dense(c.Dense)))
            .OrderByDescending(c => c.Score).ThenBy(c => c.Id).Take(count).Select(c => (c.Id, (float)c.Score)).ToList();
    }
}
