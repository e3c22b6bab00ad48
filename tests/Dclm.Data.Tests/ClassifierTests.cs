using Dclm.Data.FastText;
using Dclm.Data.Quality;

namespace Dclm.Data.Tests;

public class ClassifierTests
{
    /// <summary>DCLM's settings (bigrams, softmax) at a size the tests can afford.</summary>
    internal static readonly FastTextTrainingOptions Small = new() { Dimension = 16, Buckets = 1 << 16, Epochs = 10, LearningRate = 0.5 };

    private static List<string> Texts(string fixture) =>
        Fixtures.Read(fixture).Select(d => Dclm.Data.Inputs.EmailMessage.ExtractBody(d.Text).Text).ToList();

    [Fact]
    public void SeparatesHeldOutHamFromSpam()
    {
        var ham = Texts("mail-ham.jsonl.zst");
        var spam = Texts("mail-spam.jsonl.zst");
        var result = ClassifierTraining.Train(ham, spam, new ClassifierTrainingOptions { FastText = Small, HeldOutFraction = 0.2 });
        Console.WriteLine($"ham vs spam held-out accuracy {result.HeldOutAccuracy:P2} on {result.HeldOutExamples}");
        Assert.Equal(80, result.HeldOutExamples);
        Assert.True(result.HeldOutAccuracy >= 0.85, $"accuracy {result.HeldOutAccuracy:P2}");
        Assert.Equal([ClassifierTraining.NegativeLabel, ClassifierTraining.PositiveLabel], result.Model.Labels.Order());
        Assert.Equal(2, result.Model.Args.WordNgrams);
    }

    [Fact]
    public void RanksProseAboveBoilerplate()
    {
        var prose = Fixtures.Read("prose.jsonl.zst").Select(d => d.Text).ToList();
        var spam = Texts("mail-spam.jsonl.zst");
        // 30 prose texts against 200 spam mails: repeat the prose so both classes weigh the same.
        var training = Enumerable.Repeat(prose.Where((_, i) => i % 2 == 0), 7).SelectMany(p => p).ToList();
        var scorer = new QualityScorer(ClassifierTraining.Train(training, spam, new ClassifierTrainingOptions { FastText = Small, HeldOutFraction = 0 }).Model);
        var heldOutProse = prose.Where((_, i) => i % 2 == 1).ToList();
        string[] boilerplate =
        [
            "Home | About us | Contact | Privacy policy | Terms of use | Sitemap | Login | Register | Cart (0 items)",
            "Click here to subscribe! Best prices guaranteed. Buy now and save 50%. Free shipping on all orders over $50.",
            "Copyright 2024 All rights reserved. Powered by WordPress. Follow us on Facebook Twitter Instagram.",
            "Share this: Facebook Twitter Email Print Like Loading... Related posts Leave a reply Cancel reply",
        ];
        double meanProse = heldOutProse.Average(scorer.Score);
        Assert.True(meanProse > boilerplate.Average(scorer.Score), $"mean prose {meanProse:F3}");
        int ordered = heldOutProse.Sum(p => boilerplate.Count(b => scorer.Score(p) > scorer.Score(b)));
        Assert.True(ordered >= 0.95 * heldOutProse.Count * boilerplate.Length, $"only {ordered} ordered pairs");
    }

    [Fact]
    public void ScoresAreDclmsHqProbability()
    {
        // classify_fasttext_hq_prob: top label __label__hq gives p, __label__cc gives 1 - p; lines joined with spaces.
        var model = ClassifierTraining.Train(["good long prose about the sea and ships"], ["buy cheap pills now"], new ClassifierTrainingOptions { FastText = Small with { Buckets = 1024 }, HeldOutFraction = 0 }).Model;
        var scorer = new QualityScorer(model);
        foreach (var text in new[] { "prose about the sea", "buy pills now", "  the sea\nand ships\r\n" })
        {
            var top = model.Predict(QualityScorer.Normalize(text))[0];
            Assert.Equal(top.Name == ClassifierTraining.PositiveLabel ? top.Probability : 1 - top.Probability, scorer.Score(text), 6);
        }
        Assert.Equal("the sea and ships", QualityScorer.Normalize("  the sea\nand ships\r\n"));
    }

    [Fact]
    public void AModelWithoutThePositiveLabelIsRefusedByName()
    {
        var error = Assert.Throws<InvalidDataException>(() => new QualityScorer(LanguageIdentificationModel.Default, "__label__hq", "lid.176.ftz"));
        Assert.Contains("__label__hq", error.Message);
        Assert.Contains("lid.176.ftz", error.Message);
    }
}
