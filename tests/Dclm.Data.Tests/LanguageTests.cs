using Dclm.Data.FastText;
using Dclm.Data.Language;
using static Dclm.Data.Tests.Fixtures;

namespace Dclm.Data.Tests;

/// <summary>DCLM's language rule over the embedded lid.176 (its predictions are checked against fastText in FastTextOracleTests).</summary>
public class LanguageTests
{
    private static LanguageFilter English(double threshold = 0.65) => new(LanguageIdentificationModel.Default, ["en"], threshold);

    [Fact]
    public void EnglishProseIsKept()
    {
        var filter = English();
        foreach (var document in Read("prose.jsonl.zst").Take(10))
        {
            Assert.True(filter.Apply(document).IsKept, document.Id);
            Assert.True(document.LanguageScore > 0.65);
        }
    }

    [Theory]
    [InlineData("Der Ausschuss der Stadt hat beschlossen, dass die neue Bibliothek länger geöffnet sein wird, damit mehr Menschen lesen können.")]
    [InlineData("Le comité de la ville a décidé que la nouvelle bibliothèque serait ouverte plus longtemps pour les lecteurs du quartier.")]
    [InlineData("El comité de la ciudad decidió que la nueva biblioteca abriría durante más horas para los lectores del barrio.")]
    public void OtherLanguagesAreDropped(string text)
    {
        Assert.Equal("not_english", English().Apply(Doc(text)).DropRule);
        Assert.NotEqual("en", English().Identify(text)!.Value.Name[9..]);
    }

    [Fact]
    public void NewlinesAreDeletedNotTurnedIntoSpaces()
    {
        // DCLM: model.predict(text.replace("\n", "")): "The\ncat" is read as the one word "Thecat".
        var model = LanguageIdentificationModel.Default;
        const string text = "The committee\nmet on\nThursday and the\nlibrary will open later";
        var deleted = model.Predict(text.Replace("\n", ""))[0];
        var spaced = model.Predict(text.Replace('\n', ' '))[0];
        Assert.NotEqual(deleted.Probability, spaced.Probability);
        Assert.Equal(deleted, English().Identify(text));
    }

    [Fact]
    public void TheThresholdIsStrict()
    {
        var document = Read("prose.jsonl.zst")[0];
        float probability = English().Identify(document.Text)!.Value.Probability;
        Assert.Equal("not_english", English(probability).Apply(Doc(document.Text)).DropRule);
        Assert.True(English(probability - 1e-6).Apply(Doc(document.Text)).IsKept);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("... !!! ???")]
    public void PagesOfOnlySpacesAndPunctuationGetNoPrediction(string text)
    {
        Assert.True(LanguageFilter.IsSpaceOrPunctuation(text));
        Assert.Null(English().Identify(text));
        Assert.Equal("not_english", English().Apply(Doc(text)).DropRule);
    }

    [Fact]
    public void ATabOrNewlineIsNotSpaceForThePunctuationCheck()
    {
        Assert.False(LanguageFilter.IsSpaceOrPunctuation("\t"));
        Assert.False(LanguageFilter.IsSpaceOrPunctuation("...\n"));
    }

    [Fact]
    public void UnknownLanguageCodeIsRejectedWithItsName()
    {
        var error = Assert.Throws<ArgumentException>(() => new LanguageFilter(LanguageIdentificationModel.Default, ["xx"], 0.65));
        Assert.Contains("__label__xx", error.Message);
    }
}
