using Dclm.Rag.Lexical;

namespace Dclm.Rag.Tests;

public sealed class LexicalIndexTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("dclm-rag-bm25-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void ScoringChosenChunksGivesLuceneOwnSearchScores()
    {
        string[] texts =
        [
            "The canal across the isthmus of Panama was opened to commerce.",
            "Tariff revenues rose while the public debt fell.",
            "The treaty with Panama granted a zone for the canal.",
            "Our army and navy were reduced in peace.",
            "Commerce on the canal and the rivers grew each year.",
        ];
        LexicalIndex.Build(folder, texts);
        using var index = LexicalIndex.Open(folder);
        const string query = "the Panama canal treaty";
        var searched = index.Search(query, texts.Length).ToDictionary(h => h.Id, h => h.Score);
        Assert.Equal([2, 0, 4], searched.Keys.Take(3));

        int[] chosen = [4, 1, 2];
        var scores = index.Score(query, chosen);
        Assert.Equal(searched[4], scores[0]);
        Assert.Equal(0f, scores[1]); // no query term
        Assert.Equal(searched[2], scores[2]);
        Assert.Empty(index.Score(query, []));
        Assert.Equal([0f], index.Score("the of and", [2])); // only stop words
    }
}
