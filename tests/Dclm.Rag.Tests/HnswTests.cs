using Dclm.Rag.Dense;

namespace Dclm.Rag.Tests;

public class HnswTests
{
    // Clustered unit vectors, like sentence embeddings: a few topics with spread inside each.
    private static VectorSet Clustered(int count, int dimensions, int seed)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, 20).Select(_ => Enumerable.Range(0, dimensions).Select(_ => random.NextSingle() - 0.5f).ToArray()).ToArray();
        var values = new float[count * dimensions];
        for (int i = 0; i < count; i++)
        {
            var centre = centres[random.Next(centres.Length)];
            var v = values.AsSpan(i * dimensions, dimensions);
            for (int d = 0; d < dimensions; d++) v[d] = centre[d] + (random.NextSingle() - 0.5f) * 0.6f;
            Dclm.Embeddings.Pooling.Normalize(v);
        }
        return new VectorSet(values, dimensions);
    }

    [Fact]
    public void RecallAgainstExactSearchIsHigh()
    {
        var vectors = Clustered(3000, 48, 1);
        var graph = HnswGraph.Build(vectors);
        var queries = Clustered(200, 48, 2);
        int found = 0, wanted = 0;
        for (int q = 0; q < queries.Count; q++)
        {
            var exact = vectors.ExactSearch(queries[q], 10).Select(h => h.Id).ToHashSet();
            var approximate = graph.Search(queries[q], 10);
            Assert.Equal(approximate.OrderByDescending(h => h.Score).Select(h => h.Id), approximate.Select(h => h.Id));
            found += approximate.Count(h => exact.Contains(h.Id));
            wanted += exact.Count;
        }
        double recall = (double)found / wanted;
        Assert.True(recall >= 0.97, $"recall@10 {recall:F3}");
    }

    [Fact]
    public void TheGraphReadsBackToTheSameAnswers()
    {
        var vectors = Clustered(500, 16, 3);
        var graph = HnswGraph.Build(vectors);
        string folder = Directory.CreateTempSubdirectory("dclm-hnsw-").FullName;
        try
        {
            string vectorPath = Path.Combine(folder, "v.bin"), graphPath = Path.Combine(folder, "g.bin");
            using (var s = File.Create(vectorPath)) vectors.Write(s);
            using (var s = File.Create(graphPath)) graph.Write(s);
            var readVectors = VectorSet.Read(vectorPath);
            var readGraph = HnswGraph.Read(graphPath, readVectors);
            for (int q = 0; q < 20; q++) Assert.Equal(graph.Search(vectors[q], 5), readGraph.Search(readVectors[q], 5));
            File.WriteAllBytes(graphPath, File.ReadAllBytes(graphPath)[..100]);
            var error = Assert.Throws<InvalidDataException>(() => HnswGraph.Read(graphPath, readVectors));
            Assert.Contains("g.bin", error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void EmptyAndSingleVectorSetsAnswer()
    {
        Assert.Empty(HnswGraph.Build(new VectorSet([], 4)).Search([1, 0, 0, 0], 3));
        var one = HnswGraph.Build(new VectorSet([0, 1, 0, 0], 4)).Search([0, 1, 0, 0], 3);
        Assert.Equal(0, Assert.Single(one).Id);
    }
}
