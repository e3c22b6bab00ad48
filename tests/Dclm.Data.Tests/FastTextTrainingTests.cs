using Dclm.Data.FastText;
using Dclm.Data.IO;
using Dclm.Data.Quality;
using Dclm.Formats;
using Dclm.TestSupport;

namespace Dclm.Data.Tests;

/// <summary>Classifiers trained here, checked by fastText itself (WebAssembly, under Node).</summary>
public sealed class FastTextTrainingTests
{
    private static List<string> Texts(string fixture) =>
        Fixtures.Read(fixture).Select(d => Dclm.Data.Inputs.EmailMessage.ExtractBody(d.Text).Text).ToList();

    [Fact]
    public void FastTextLoadsOurClassifierAndPredictsTheSameProbabilities()
    {
        var directory = Fixtures.TemporaryDirectory();
        var result = ClassifierTraining.Train(Texts("mail-ham.jsonl.zst"), Texts("mail-spam.jsonl.zst"),
            new ClassifierTrainingOptions { FastText = ClassifierTests.Small, HeldOutFraction = 0.25 });
        var path = Path.Combine(directory, "quality.bin");
        AtomicFile.Write(path, stream => result.Model.Save(stream));
        var texts = result.HeldOut.Select(e => QualityScorer.Normalize(e.Text)).ToList();
        Assert.Equal(100, texts.Count);
        var expected = FastTextOracle.Predict(path, texts, k: 2);
        Assert.Equal(texts.Count, expected.Count);
        double worst = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            var ours = result.Model.Predict(texts[i], 2);
            Assert.Equal(expected[i].Select(p => p.Label), ours.Select(p => p.Name));
            for (int j = 0; j < ours.Count; j++) worst = Math.Max(worst, Math.Abs(expected[i][j].Probability - ours[j].Probability));
        }
        Assert.True(worst <= 1e-4, $"probabilities differ by up to {worst:G3}");
        Console.WriteLine($"largest difference from fastText over {texts.Count} held-out mails: {worst:G3}");
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void OurTrainingLearnsAsWellAsFastTexts()
    {
        // Same lines, same settings: fastText's own training (one thread) and ours reach similar held-out accuracy.
        var directory = Fixtures.TemporaryDirectory();
        var ham = Texts("mail-ham.jsonl.zst");
        var spam = Texts("mail-spam.jsonl.zst");
        var ours = ClassifierTraining.Train(ham, spam, new ClassifierTrainingOptions { FastText = ClassifierTests.Small, HeldOutFraction = 0.25 });
        var heldOut = ours.HeldOut.Select(e => QualityScorer.Normalize(e.Text)).ToHashSet();
        var trainPath = Path.Combine(directory, "train.txt");
        var lines = ham.Select(t => ClassifierTraining.TrainingLine(t, true)).Concat(spam.Select(t => ClassifierTraining.TrainingLine(t, false)))
            .Where(l => !heldOut.Contains(l[(l.IndexOf(' ') + 1)..])).ToArray();
        new Random(1).Shuffle(lines);
        File.WriteAllLines(trainPath, lines);
        var theirsPath = Path.Combine(directory, "theirs.bin");
        var small = ClassifierTests.Small;
        FastTextOracle.Train(trainPath, theirsPath, new { lr = small.LearningRate, dim = small.Dimension, epoch = small.Epochs, wordNgrams = small.WordNgrams, bucket = small.Buckets, minCount = 1, loss = "softmax", verbose = 0 });
        var predictions = FastTextOracle.Predict(theirsPath, ours.HeldOut.Select(e => QualityScorer.Normalize(e.Text)), k: 1);
        double theirs = ours.HeldOut.Zip(predictions).Count(p => (p.Second[0].Label == ClassifierTraining.PositiveLabel) == p.First.Positive) / (double)ours.HeldOut.Count;
        Console.WriteLine($"held-out accuracy: ours {ours.HeldOutAccuracy:P1}, fastText's {theirs:P1}");
        Assert.True(ours.HeldOutAccuracy >= theirs - 0.05, $"ours {ours.HeldOutAccuracy:P1} vs fastText {theirs:P1}");
        using (var loaded = FastTextModel.Load(theirsPath)) Assert.Equal(2, loaded.Labels.Count);
        Directory.Delete(directory, recursive: true);
    }
}
