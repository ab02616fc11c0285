package org.fqlspark.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * learning_curves.png: the main metrics against the step, one panel each, rendered headless with JFreeChart; with
 * periodic evaluation ({@code --eval-every}), the success rate on top and, below all panels, once more against the
 * wall time since the (re)start of training ({@code elapsed_seconds}).
 */
final class LearningCurves {

    static final List<String> PANELS = List.of("critic/critic_loss", "critic/q_mean", "actor/actor_loss", "actor/bc_flow_loss",
            "actor/distill_loss", "actor/q_loss", "grad_norm", "samples_per_second");

    static final String SUCCESS = "eval/success_rate";
    static final List<String> ONLINE = List.of("online/success_rate", "online/episode_return");

    private LearningCurves() {
    }

    static byte[] render(List<Map<String, Double>> rows, String title) throws IOException {
        return render(rows, title, -1);
    }

    /**
     * @param onlineFrom the step where the online phase begins (a marker on every panel, online panels added), or −1
     */
    static byte[] render(List<Map<String, Double>> rows, String title, long onlineFrom) throws IOException {
        System.setProperty("java.awt.headless", "true");
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(new NumberAxis("step"));
        plot.setGap(8);
        List<String> panels = new java.util.ArrayList<>();
        if (rows.stream().anyMatch(r -> r.get(SUCCESS) != null && Double.isFinite(r.get(SUCCESS)))) {
            panels.add(SUCCESS);   // periodic evaluation (--eval-every): the result that matters, on top
        }
        if (onlineFrom >= 0) {
            for (String m : ONLINE) {
                if (rows.stream().anyMatch(r -> r.get(m) != null && Double.isFinite(r.get(m)))) {
                    panels.add(m);   // episodes the online actors finished, per round
                }
            }
        }
        panels.addAll(PANELS);
        for (String metric : panels) {
            XYSeries series = new XYSeries(metric);
            for (Map<String, Double> r : rows) {
                Double v = r.get(metric);
                if (v != null && Double.isFinite(v)) {
                    series.add(r.get("step"), v);
                }
            }
            NumberAxis axis = new NumberAxis(metric);
            axis.setAutoRangeIncludesZero(false);
            if (metric.equals(SUCCESS)) {
                axis.setRange(-0.02, 1.02);   // a fraction: 0 and 1 always in view
            }
            XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, rows.size() < 40 || metric.equals(SUCCESS));
            renderer.setSeriesPaint(0, new Color(31, 119, 180));
            renderer.setSeriesStroke(0, new BasicStroke(1.5f));
            XYPlot sub = new XYPlot(new XYSeriesCollection(series), null, axis, renderer);
            sub.setBackgroundPaint(Color.WHITE);
            sub.setRangeGridlinePaint(Color.LIGHT_GRAY);
            sub.setDomainGridlinePaint(Color.LIGHT_GRAY);
            if (onlineFrom >= 0) {
                org.jfree.chart.plot.ValueMarker marker = new org.jfree.chart.plot.ValueMarker(onlineFrom, new Color(214, 39, 40),
                        new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
                if (plot.getSubplots().isEmpty()) {
                    marker.setLabel("offline | online");
                    marker.setLabelAnchor(org.jfree.chart.ui.RectangleAnchor.TOP_LEFT);
                    marker.setLabelTextAnchor(org.jfree.chart.ui.TextAnchor.TOP_RIGHT);
                }
                sub.addDomainMarker(marker);
            }
            plot.add(sub, 1);
        }
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int height = 180 * panels.size();
        if (!panels.contains(SUCCESS)) {
            ChartUtils.writeChartAsPNG(out, chart, 900, height);
            return out.toByteArray();
        }
        // the success rate against wall time: a second chart (its own domain axis) drawn under the first
        XYSeries byTime = new XYSeries(SUCCESS);
        for (Map<String, Double> r : rows) {
            Double v = r.get(SUCCESS);
            Double t = r.get("elapsed_seconds");
            if (v != null && Double.isFinite(v) && t != null && Double.isFinite(t)) {
                byTime.add(t, v);
            }
        }
        NumberAxis axis = new NumberAxis(SUCCESS);
        axis.setRange(-0.02, 1.02);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        renderer.setSeriesPaint(0, new Color(44, 160, 44));
        renderer.setSeriesStroke(0, new BasicStroke(1.5f));
        XYPlot timePlot = new XYPlot(new XYSeriesCollection(byTime), new NumberAxis("wall time since training (re)started (s)"),
                axis, renderer);
        timePlot.setBackgroundPaint(Color.WHITE);
        timePlot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        timePlot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart timeChart = new JFreeChart(timePlot);
        timeChart.removeLegend();
        timeChart.setBackgroundPaint(Color.WHITE);
        int timeHeight = 240;
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(900, height + timeHeight,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = image.createGraphics();
        try {
            chart.draw(g, new java.awt.geom.Rectangle2D.Double(0, 0, 900, height));
            timeChart.draw(g, new java.awt.geom.Rectangle2D.Double(0, height, 900, timeHeight));
        } finally {
            g.dispose();
        }
        ChartUtils.writeBufferedImageAsPNG(out, image);
        return out.toByteArray();
    }
}
