package dev.ncalign.orchestrator.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ncalign.orchestrator.store.RunStore;
import dev.ncalign.orchestrator.web.ReplicaStatus.Replica;
import dev.ncalign.orchestrator.web.ReplicaStatus.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser: Debian's headless chromium, driven by its chromedriver. Rounds
 * are fed while the page is open; the page must draw them and count them without reloading. Leaves
 * a screenshot in {@code target/dashboard-screenshot.png}.
 */
class DashboardBrowserTest {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Path SCREENSHOT = Path.of("target", "dashboard-screenshot.png");

  /**
   * For every canvas: its size, its chart's point count, and whether the pixel under the middle
   * point (or bar) of the first solid series carries that series' colour, i.e. the data was drawn,
   * not only the axes.
   */
  private static final String CHART_PROBE =
      """
      return [...document.querySelectorAll('canvas')].map(canvas => {
        const chart = Chart.getChart(canvas);
        const index = chart.data.datasets.findIndex(d => !(d.borderDash && d.borderDash.length));
        const dataset = chart.data.datasets[index];
        const points = chart.getDatasetMeta(index).data;
        const middle = points[Math.floor(points.length / 2)];
        const y = middle.base === undefined ? middle.y : (middle.y + middle.base) / 2;
        const dpr = window.devicePixelRatio;
        const pixel = canvas.getContext('2d').getImageData(Math.round(middle.x * dpr), Math.round(y * dpr), 1, 1).data;
        const hex = chart.config.type === 'bar' ? dataset.backgroundColor : dataset.borderColor;
        const rgb = [1, 3, 5].map(i => parseInt(hex.substr(i, 2), 16));
        const distance = Math.max(...rgb.map((c, i) => Math.abs(c - pixel[i])));
        return { id: canvas.id, width: canvas.width, height: canvas.height, points: points.length,
                 alpha: pixel[3], distance: distance };
      });
      """;

  @TempDir Path runDir;
  @TempDir Path profile;
  private Dashboard dashboard;
  private ChromeDriver browser;

  @BeforeEach
  void requireChromium() {
    boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    if (!present && "true".equals(System.getenv("CI"))) {
      fail("CI must have Debian's chromium and chromium-driver (.ci/run installs them)");
    }
    assumeTrue(
        present, "chromium or chromedriver missing: apt-get install -y chromium chromium-driver");
  }

  @AfterEach
  void close() {
    if (browser != null) {
      browser.quit();
    }
    if (dashboard != null) {
      dashboard.close();
    }
  }

  @Test
  void chartsRenderAndTheRoundCountAdvancesLive() throws Exception {
    ReplicaStatus replicas =
        () ->
            List.of(
                new Replica(Role.POLICY, "127.0.0.1:50051", true, 6L),
                new Replica(Role.POLICY, "127.0.0.1:50052", true, 6L),
                new Replica(Role.REWARD, "127.0.0.1:50061", true, null));
    dashboard = Dashboard.start(0, "browser-test-run", RunStore.open(runDir), replicas);
    Rounds.feed(dashboard, 1, 2);

    browser = startBrowser();
    browser.get(dashboard.url());
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
    wait.until(ExpectedConditions.attributeToBe(By.tagName("body"), "data-live", "true"));
    wait.until(ExpectedConditions.textToBe(By.id("round-count"), "2"));
    browser.executeScript("window.loadedOnce = true;");

    for (int round = 3; round <= 5; round++) {
      Thread.sleep(700); // let the page show each round, as during a real run
      dashboard.roundCompleted(
          Rounds.metrics(round), round == 5 ? Rounds.batchWithNaN(round) : Rounds.batch(round));
    }
    wait.until(ExpectedConditions.textToBe(By.id("round-count"), "5"));
    assertEquals(
        Boolean.TRUE,
        browser.executeScript("return window.loadedOnce === true;"),
        "the page took the rounds without reloading");

    wait.until(ExpectedConditions.textToBe(By.id("live-version"), "v6"));
    wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#replicas tbody tr"), 3));
    assertEquals("0.500", browser.findElement(By.id("last-reward")).getText());
    assertEquals(
        "0.450", browser.findElement(By.id("eval-reward")).getText(), "round 4's eval, the latest");
    assertEquals("1.5 MiB", browser.findElement(By.id("last-push-bytes")).getText());
    assertEquals("1", browser.findElement(By.id("last-staleness")).getText(), "round 5's");
    List<?> sampleRows = browser.findElements(By.cssSelector("#samples tbody tr"));
    assertEquals(5 * Rounds.PROMPTS * Rounds.K, sampleRows.size());
    assertEquals(
        "non-finite",
        browser.findElement(By.cssSelector("#samples tbody tr td:last-child")).getText());

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> charts =
        (List<Map<String, Object>>) browser.executeScript(CHART_PROBE);
    assertEquals(6, charts.size());
    for (Map<String, Object> chart : charts) {
      assertTrue(
          ((Number) chart.get("width")).intValue() > 100
              && ((Number) chart.get("height")).intValue() > 100,
          "chart has a size: " + chart);
      assertEquals(5, ((Number) chart.get("points")).intValue(), "one point per round: " + chart);
      assertTrue(
          ((Number) chart.get("alpha")).intValue() > 0
              && ((Number) chart.get("distance")).intValue() < 80,
          "the first series is drawn in its colour: " + chart);
    }

    // The whole page, tables included: grow the window to the page's height (same 1280 px width).
    long pageHeight = (Long) browser.executeScript("return document.documentElement.scrollHeight;");
    long viewportHeight = (Long) browser.executeScript("return window.innerHeight;");
    Dimension window = browser.manage().window().getSize();
    browser
        .manage()
        .window()
        .setSize(new Dimension(window.width, window.height + (int) (pageHeight - viewportHeight)));
    Files.createDirectories(SCREENSHOT.getParent());
    Files.write(SCREENSHOT, browser.getScreenshotAs(OutputType.BYTES));
  }

  /**
   * Headless chromium with a fresh profile; paths given explicitly so Selenium Manager never runs.
   */
  private ChromeDriver startBrowser() {
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
    ChromeOptions options =
        new ChromeOptions()
            .setBinary(CHROMIUM.toFile())
            .addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,800",
                "--user-data-dir=" + profile.toAbsolutePath());
    return new ChromeDriver(service, options);
  }
}
