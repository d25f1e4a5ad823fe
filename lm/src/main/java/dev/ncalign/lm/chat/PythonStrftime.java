package dev.ncalign.lm.chat;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/**
 * {@code strftime_now(format)} as transformers defines it ({@code
 * datetime.now().strftime(format)}), for templates that stamp the date into the system turn (Llama
 * 3.x). Python formats in the C locale, so names are English whatever the JVM's default locale is;
 * the JS engine's own version would follow the host locale.
 */
final class PythonStrftime {

  private PythonStrftime() {}

  static String format(ZonedDateTime t, String format) {
    StringBuilder out = new StringBuilder(format.length() + 16);
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 == format.length()) {
        out.append(c);
        continue;
      }
      char d = format.charAt(++i);
      switch (d) {
        case 'Y' -> out.append(t.getYear());
        case 'y' -> pad(out, t.getYear() % 100);
        case 'm' -> pad(out, t.getMonthValue());
        case 'd' -> pad(out, t.getDayOfMonth());
        case 'H' -> pad(out, t.getHour());
        case 'I' -> pad(out, (t.getHour() + 11) % 12 + 1);
        case 'M' -> pad(out, t.getMinute());
        case 'S' -> pad(out, t.getSecond());
        case 'p' -> out.append(t.getHour() < 12 ? "AM" : "PM");
        case 'j' -> out.append(String.format(Locale.ROOT, "%03d", t.getDayOfYear()));
        case 'B' -> out.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
        case 'b' -> out.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
        case 'A' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
        case 'a' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
        case '%' -> out.append('%');
        default -> out.append('%').append(d); // Python keeps unknown directives as written
      }
    }
    return out.toString();
  }

  private static void pad(StringBuilder out, int n) {
    if (n < 10) {
      out.append('0');
    }
    out.append(n);
  }
}
