using Dclm.Rag.Documents;
using Dclm.Rag.Search;

namespace Dclm.Rag.Tests;

public class ChunkingAndFusionTests
{
    private static List<(int, int)> WordSpans(string text)
    {
        var spans = new List<(int, int)>();
        for (int i = 0; i < text.Length;)
        {
            while (i < text.Length && text[i] == ' ') i++;
            int start = i;
            while (i < text.Length && text[i] != ' ') i++;
            if (i > start) spans.Add((start, i));
        }
        return spans;
    }

    [Fact]
    public void ChunksHoldAtMostTheTokenCountAndOverlapByTheGivenAmount()
    {
        string text = string.Join(' ', Enumerable.Range(0, 23).Select(i => $"w{i}"));
        var chunks = TokenChunker.Split("doc", text, WordSpans(text), chunkTokens: 10, overlap: 3);
        // Starts every 7 tokens: [0,10) [7,17) [14,23).
        Assert.Equal(["w0", "w7", "w14"], chunks.Select(c => c.Text.Split(' ')[0]));
        Assert.Equal([10, 10, 9], chunks.Select(c => c.Text.Split(' ').Length));
        Assert.Equal([0, 1, 2], chunks.Select(c => c.Number));
        Assert.All(chunks, c => Assert.Equal(text[c.Start..c.End], c.Text));
        Assert.Equal("w7 w8 w9", string.Join(' ', chunks[1].Text.Split(' ').Take(3)));
        Assert.EndsWith("w9", chunks[0].Text);
    }

    [Fact]
    public void ShortAndEmptyTextsGiveOneOrNoChunk()
    {
        Assert.Single(TokenChunker.Split("d", "one two", WordSpans("one two"), 10, 2));
        Assert.Empty(TokenChunker.Split("d", "   ", WordSpans("   "), 10, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenChunker.Split("d", "x", WordSpans("x"), 10, 10));
    }

    [Fact]
    public void ReciprocalRankFusionFollowsTheFormula()
    {
        var fused = RankFusion.Fuse([[1, 2, 3], [3, 1, 4]], count: 4, k: 60);
        // 1: 1/61 + 1/62; 3: 1/63 + 1/61; 2: 1/62; 4: 1/63.
        Assert.Equal([1, 3, 2, 4], fused.Select(f => f.Id));
        Assert.Equal(1.0 / 61 + 1.0 / 62, fused[0].Score, 6);
        Assert.Equal(1.0 / 63, fused[3].Score, 6);
    }
}

public class ConvexFusionTests
{
    [Fact]
    public void ScoresAreNormalisedPerRankingAndMixedByAlpha()
    {
        // Lexical: 1 far ahead of 2 and 3; dense: 3 ahead of 1 ahead of 4.
        var fused = RankFusion.Convex([(1, 30f), (2, 10f), (3, 5f)], [(3, 0.9f), (1, 0.8f), (4, 0.5f)], count: 4, alpha: 0.5);
        // 1: 0.5·1 + 0.5·0.75 = 0.875; 3: 0.5·0 + 0.5·1 = 0.5; 2: 0.5·0.2 = 0.1; 4: 0.
        Assert.Equal([1, 3, 2, 4], fused.Select(f => f.Id));
        Assert.Equal(0.875, fused[0].Score, 5);
        Assert.Equal(0.1, fused[2].Score, 5);
    }

    [Fact]
    public void TheoreticalConvexNormalisesFromEachScoresFloor()
    {
        // BM25 floor 0, best 20; cosine floor -1, best 0.6.
        var fused = RankFusion.TheoreticalConvex([(1, 20f, 0.2f), (2, 10f, 0.6f), (3, 0f, 0.4f)], count: 3, alpha: 0.5);
        // 1: 0.5·20/20 + 0.5·1.2/1.6 = 0.875; 2: 0.5·10/20 + 0.5·1.6/1.6 = 0.75; 3: 0 + 0.5·1.4/1.6 = 0.4375.
        Assert.Equal([1, 2, 3], fused.Select(f => f.Id));
        Assert.Equal(0.875, fused[0].Score, 5);
        Assert.Equal(0.75, fused[1].Score, 5);
        Assert.Equal(0.4375, fused[2].Score, 5);
        // Min-max over the same three would stretch the cosines to 0, 1, 0.5 and put 2 first: 0.5·0.5 + 0.5·1 = 0.75 against 0.5.
        Assert.Equal(2, RankFusion.Convex([(1, 20f), (2, 10f), (3, 0f)], [(2, 0.6f), (3, 0.4f), (1, 0.2f)], count: 3, alpha: 0.5)[0].Id);
        Assert.Empty(RankFusion.TheoreticalConvex([], count: 3));
    }

    [Fact]
    public void StandardScoreMixesZScores()
    {
        // BM25 0, 10, 20: mean 10, σ √(200/3); cosines 0.2, 0.4, 0.6: mean 0.4, σ √(0.08/3). z: lexical −1.2247, 0, 1.2247; dense the same.
        var fused = RankFusion.StandardScore([(1, 20f, 0.2f), (2, 10f, 0.6f), (3, 0f, 0.4f)], count: 3, alpha: 0.75);
        // 1: 0.75·1.2247 − 0.25·1.2247 = 0.6124; 2: 0.25·1.2247 = 0.3062; 3: −0.75·1.2247 = −0.9186.
        Assert.Equal([1, 2, 3], fused.Select(f => f.Id));
        Assert.Equal(0.6124, fused[0].Score, 3);
        Assert.Equal(-0.9186, fused[2].Score, 3);
    }
}
