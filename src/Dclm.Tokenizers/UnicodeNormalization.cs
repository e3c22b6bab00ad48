using System.Text;

namespace Dclm.Tokenizers;

internal static class UnicodeNormalization
{
    public static string ToNfc(string text)
    {
        foreach (char character in text)
        {
            if (character >= 0x300)
            {
                return text.Normalize(NormalizationForm.FormC);
            }
        }
        return text;
    }
}
